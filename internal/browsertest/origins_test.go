package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/config"
)

// crossOriginScript is a shop's page on its own origin using the kit that
// handoffd serves on another: it loads it from there, starts a journey,
// saves and watches (Server-Sent Events), all across origins; or says how
// its first call failed.
const crossOriginScript = `(async () => {
  const handoff = %q;
  // The kit is public code: any page may load it.
  const sdk = await import(handoff + '/sdk/handoff.js');
  const client = new sdk.HandoffClient({ token: %q, baseUrl: handoff });
  let journey;
  try {
    journey = await client.createJourney('c-42', { journeyType: 'car-insurance-quote', step: 'vehicle' });
  } catch (err) {
    // Status 0: the browser kept the answer from the page.
    return { api: err.status === 0 ? 'blocked' : 'HTTP ' + err.status };
  }
  const session = new sdk.JourneySession(client, journey);
  const saved = await session.save({ step: 'vehicle', data: { vehicle: { plate: 'AB-123-C' } } });
  const change = await new Promise((resolve, reject) => {
    const w = client.watch(journey.name, {
      onError: reject,
      onChange: (c) => {
        if (c.snapshot) { session.save({ data: { vehicle: { year: 2019 } } }).catch(reject); return; }
        w.close();
        resolve({ revision: Number(c.revision), paths: c.changedPaths });
      },
    });
    setTimeout(() => reject(new Error('no change within 10 s')), 10000);
  });
  return { api: 'reached', name: journey.name, plate: saved.data.vehicle.plate, change };
})()`

type crossOriginResult struct {
	API    string
	Name   string
	Plate  string
	Change struct {
		Revision int64
		Paths    []string
	}
}

// TestOrigins_aShopOnAListedOriginUsesTheKitAndTheAPIAndAnotherCannot runs
// handoffd on one origin and two shops' pages on two others; both may load
// the kit, only the one listed in --cors-allowed-origins may call the API.
func TestOrigins_aShopOnAListedOriginUsesTheKitAndTheAPIAndAnotherCannot(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>A shop</title><p>Your quote</p>"))
	})
	listed, unlisted := httptest.NewServer(page), httptest.NewServer(page)
	t.Cleanup(listed.Close)
	t.Cleanup(unlisted.Close)
	s := startHandoffd(t, func(c *config.Config) { c.CORSAllowedOrigins = config.Origins{listed.URL} })
	b := startBrowser(t)

	t.Run("the_listed_shop_loads_the_kit_saves_and_watches", func(t *testing.T) {
		p := b.page("listed shop", deskWidth, deskHeight, false)
		p.open(listed.URL + "/")
		r := eval[crossOriginResult](p, fmt.Sprintf(crossOriginScript, s.base, annaToken))
		require.Equal(t, "reached", r.API)
		require.Equal(t, "AB-123-C", r.Plate)
		require.Contains(t, r.Change.Paths, "data.vehicle.year")
		require.Equal(t, float64(2019), answer(s.journey(t, r.Name), "vehicle.year"))
		p.noExceptions()
	})
	t.Run("the_unlisted_shop_loads_the_kit_but_its_calls_never_reach_handoffd", func(t *testing.T) {
		journeys := func() int {
			list, _ := s.journey(t, "customers/c-42/journeys")["journeys"].([]any)
			return len(list)
		}
		before := journeys()
		p := b.page("unlisted shop", deskWidth, deskHeight, false)
		p.open(unlisted.URL + "/")
		r := eval[crossOriginResult](p, fmt.Sprintf(crossOriginScript, s.base, annaToken))
		require.Equal(t, "blocked", r.API, "the browser let the page call the API")
		require.Equal(t, before, journeys(), "the unlisted shop's create reached handoffd")
	})
}
