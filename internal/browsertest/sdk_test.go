package browsertest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// sdkScript runs the website kit in a page the way an integrating website
// would, recording every HTTP status it met.
const sdkScript = `(async () => {
  const sdk = await import('/sdk/handoff.js');
  const calls = [];
  const client = new sdk.HandoffClient({ token: %q, channel: 'web', fetch: async (url, opts) => {
    const resp = await fetch(url, opts);
    calls.push(opts.method + ' ' + resp.status);
    return resp;
  }});
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
  const start = () => sdk.JourneySession.start(client, { customer: 'c-42', journeyType: 'car-insurance-quote', step: 'vehicle', storage });
  const out = {};

  const first = await start();
  out.resumed = (await start()).name === first.name;

  // Two tabs read the same version; the second saves another answer.
  const tab1 = first;
  const tab2 = new sdk.JourneySession(client, first.journey);
  await tab1.save({ step: 'vehicle', data: { vehicle: { plate: 'AB-123-C' } } });
  calls.length = 0;
  const merged = await tab2.save({ data: { vehicle: { make: 'Volvo' } } });
  out.mergeCalls = calls.slice();
  out.merged = merged.data.vehicle;

  // Now the same answer: tab1 is stale and changes the plate tab2 changed.
  await tab2.save({ data: { vehicle: { plate: 'XY-999-Z' } } });
  calls.length = 0;
  let conflict = null;
  try {
    await tab1.save({ data: { vehicle: { plate: 'AB-128-C' } } });
  } catch (err) {
    conflict = err;
  }
  out.conflictCalls = calls.slice();
  out.conflict = conflict && { name: conflict.name, conflicts: conflict.conflicts };
  out.afterConflict = (await client.getJourney(first.name)).data.vehicle.plate;
  // Having seen theirs, keep mine.
  out.kept = (await tab1.save({ data: { vehicle: { plate: 'AB-128-C' } } }, { base: conflict.journey })).data.vehicle.plate;

  // An emptied field removes its answer: named in the mask, absent from the body.
  calls.length = 0;
  out.removed = (await tab1.save({ remove: ['vehicle.make'] })).data.vehicle;
  out.removeCalls = calls.slice();

  // A refused call says what is wrong, field by field.
  try {
    await client.updateJourney(first.name, { step: 'no spaces allowed' });
  } catch (err) {
    out.error = { name: err.name, code: err.code, status: err.status, fields: err.fieldViolations.map((f) => f.field) };
  }

  out.offer = await tab1.continueByPhone();

  // Watch: a snapshot first, then the changes in order; after_revision
  // resumes exactly after a revision.
  const now = (await client.getJourney(first.name)).revision;
  const changes = await new Promise((resolve, reject) => {
    const seen = [];
    const w = client.watch(first.name, {
      afterRevision: Number(now) - 1,
      onError: reject,
      onChange: (c) => {
        // A change carries only what it changed: the save below, its answer.
        seen.push({ revision: c.revision, snapshot: c.snapshot, year: c.journey.data?.vehicle?.year ?? null, paths: c.changedPaths });
        if (seen.length === 1) tab1.save({ data: { vehicle: { year: 2019 } } }).catch(reject);
        if (seen.length === 2) { w.close(); resolve(seen); }
      },
    });
    setTimeout(() => reject(new Error('no changes within 10 s: ' + JSON.stringify(seen))), 10000);
  });
  out.watch = { from: Number(now), changes };
  out.grouped = sdk.groupCode('k7qmx2hd');
  return out;
})()`

type sdkResult struct {
	Resumed       bool
	MergeCalls    []string
	Merged        map[string]any
	ConflictCalls []string
	Conflict      *struct {
		Name      string
		Conflicts []struct {
			Path, Mine, Theirs, Base string
		}
	}
	AfterConflict string
	Kept          string
	Removed       map[string]any
	RemoveCalls   []string
	Error         struct {
		Name, Code string
		Status     int
		Fields     []string
	}
	Offer struct{ Code, ExpireTime, Spoken string }
	Watch struct {
		From    int64
		Changes []struct {
			Revision int64
			Snapshot bool
			Year     *float64
			Paths    []string
		}
	}
	Grouped string
}

// TestSDK_savesWithEtagsAsksForACodeAndWatches runs /sdk/handoff.js in a
// browser as a website would, and checks its etag story at the HTTP level:
// a stale save of another answer lands at once (the server checks etags
// per answer), a stale save of the same answer is a conflict with both
// values and saves nothing.
func TestSDK_savesWithEtagsAsksForACodeAndWatches(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	p := b.page("website", deskWidth, deskHeight, false)
	p.open(s.base + "/")
	r := eval[sdkResult](p, fmt.Sprintf(sdkScript, annaToken))

	require.True(t, r.Resumed, "a second start resumes the journey kept in storage")

	require.Equal(t, []string{"PATCH 200"}, r.MergeCalls, "a stale etag, but another answer: no conflict, saved at once")
	require.Equal(t, map[string]any{"plate": "AB-123-C", "make": "Volvo"}, r.Merged)

	require.Equal(t, []string{"PATCH 409", "GET 200"}, r.ConflictCalls, "same answer changed: nothing saved after the re-read")
	require.NotNil(t, r.Conflict)
	require.Equal(t, "ConflictError", r.Conflict.Name)
	require.Len(t, r.Conflict.Conflicts, 1)
	c := r.Conflict.Conflicts[0]
	require.Equal(t, "vehicle.plate", c.Path)
	require.Equal(t, "AB-128-C", c.Mine)
	require.Equal(t, "XY-999-Z", c.Theirs)
	require.Equal(t, "AB-123-C", c.Base)
	require.Equal(t, "XY-999-Z", r.AfterConflict)
	require.Equal(t, "AB-128-C", r.Kept)
	require.Equal(t, map[string]any{"plate": "AB-128-C"}, r.Removed, "save({remove}) removes the answer")
	require.Equal(t, []string{"PATCH 200"}, r.RemoveCalls)

	require.Equal(t, "HandoffError", r.Error.Name)
	require.Equal(t, "INVALID_ARGUMENT", r.Error.Code)
	require.Equal(t, 400, r.Error.Status)
	require.NotEmpty(t, r.Error.Fields)

	require.Regexp(t, displayedCode, r.Offer.Code)
	require.NotEmpty(t, r.Offer.ExpireTime)
	require.Regexp(t, `^(\w \w \w \w), (\w \w \w \w)$`, r.Offer.Spoken)

	require.Len(t, r.Watch.Changes, 2)
	require.Equal(t, r.Watch.From, r.Watch.Changes[0].Revision, "resumes with the change after the one given")
	require.False(t, r.Watch.Changes[0].Snapshot)
	require.Equal(t, r.Watch.From+1, r.Watch.Changes[1].Revision)
	require.NotNil(t, r.Watch.Changes[1].Year)
	require.Equal(t, float64(2019), *r.Watch.Changes[1].Year)
	require.Contains(t, r.Watch.Changes[1].Paths, "data.vehicle.year", "a change names what it changed")
	require.NotContains(t, r.Watch.Changes[1].Paths, "data.vehicle.plate", "and only that")

	require.Equal(t, "K7QM-X2HD", r.Grouped)
	p.noExceptions()
}
