package redis_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
)

// v1DumpFile is what the release before layout v2 wrote to Redis, and what
// it read back, recorded by that release's own code (testdata/README.md
// says how to make it again).
const v1DumpFile = "testdata/v1-redis.json"

// v1Dump is v1DumpFile: every key under the recorded prefixes, and per
// prefix what that release's store returned for them.
type v1Dump struct {
	Commit       string              `json:"commit"`
	RecordedAtMs int64               `json:"recorded_at_ms"`
	SealingKeys  string              `json:"sealing_keys"`
	Expect       map[string]v1Expect `json:"expect"`
	Keys         []dumpedKey         `json:"keys"`
}

// v1Expect is what the previous release read under one prefix.
type v1Expect struct {
	Journeys  map[string]v1Journey `json:"journeys"`
	Lists     map[string][]string  `json:"lists"`
	LiveCode  string               `json:"live_code"`
	UsedCode  string               `json:"used_code"`
	RequestID string               `json:"request_id"`
}

// v1Journey is one journey as the previous release read it, in protojson:
// GetJourney, its whole timeline and ChangesSince(0). Answers without a
// value are left out (JSON cannot carry them) and named in Kindless.
type v1Journey struct {
	Journey     json.RawMessage   `json:"journey"`
	Touchpoints []json.RawMessage `json:"touchpoints"`
	Changes     []json.RawMessage `json:"changes"`
	Kindless    []string          `json:"kindless_answers"`
}

// dumpedKey is one key: its type, its absolute expiry (PEXPIRETIME, -1 for
// none) and its value in the field of its type.
type dumpedKey struct {
	Key        string               `json:"key"`
	Type       string               `json:"type"`
	ExpireAtMs int64                `json:"expire_at_ms"`
	String     dumpValue            `json:"string"`
	Hash       map[string]dumpValue `json:"hash"`
	List       []dumpValue          `json:"list"`
	Set        []dumpValue          `json:"set"`
	SortedSet  []struct {
		Member dumpValue `json:"member"`
		Score  float64   `json:"score"`
	} `json:"zset"`
}

// dumpValue is a JSON string when the bytes are printable text, else
// {"base64": "..."}: the file stays readable where it can be, and exact.
type dumpValue []byte

func (v *dumpValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = []byte(s)
		return nil
	}
	var o struct {
		Base64 string `json:"base64"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(o.Base64)
	*v = raw
	return err
}

func readV1Dump(t *testing.T) *v1Dump {
	t.Helper()
	b, err := os.ReadFile(v1DumpFile)
	require.NoError(t, err)
	d := &v1Dump{}
	require.NoError(t, json.Unmarshal(b, d))
	require.NotEmpty(t, d.Keys)
	return d
}

// restore writes the keys recorded under prefix from again under prefix
// to, each expiring as long after now as it did after the recording: a
// recorded expiry lies in the past by now, and the keys would vanish.
func (d *v1Dump) restore(t *testing.T, c goredis.UniversalClient, from, to string) {
	t.Helper()
	ctx := t.Context()
	offset := time.Now().UnixMilli() - d.RecordedAtMs
	pipe := c.TxPipeline()
	n := 0
	for _, k := range d.Keys {
		rest, ok := strings.CutPrefix(k.Key, from)
		if !ok {
			continue
		}
		n++
		name := to + rest
		switch k.Type {
		case "string":
			pipe.Set(ctx, name, []byte(k.String), 0)
		case "hash":
			for f, v := range k.Hash {
				pipe.HSet(ctx, name, f, []byte(v))
			}
		case "list":
			for _, v := range k.List {
				pipe.RPush(ctx, name, []byte(v))
			}
		case "set":
			for _, v := range k.Set {
				pipe.SAdd(ctx, name, []byte(v))
			}
		case "zset":
			for _, m := range k.SortedSet {
				pipe.ZAdd(ctx, name, goredis.Z{Member: []byte(m.Member), Score: m.Score})
			}
		default:
			t.Fatalf("%s: key %s has type %q, which restore does not know", v1DumpFile, k.Key, k.Type)
		}
		if k.ExpireAtMs >= 0 {
			pipe.PExpireAt(ctx, name, time.UnixMilli(k.ExpireAtMs+offset))
		}
	}
	require.NotZero(t, n, "no key under %q in %s", from, v1DumpFile)
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
}

// keyring is the fixed test key the sealed part was written with.
func (d *v1Dump) keyring(t *testing.T) *sealing.Keyring {
	t.Helper()
	ring, err := sealing.Parse(d.SealingKeys)
	require.NoError(t, err)
	return ring
}

func fromJSON[M proto.Message](t *testing.T, raw json.RawMessage, m M) M {
	t.Helper()
	require.NoError(t, protojson.Unmarshal(raw, m))
	return m
}

// journey is the journey named as the previous release read it.
func (e v1Expect) journey(t *testing.T, name string) *handoffv1.Journey {
	t.Helper()
	j, ok := e.Journeys[name]
	require.True(t, ok, "%s holds no journey %s", v1DumpFile, name)
	return fromJSON(t, j.Journey, &handoffv1.Journey{})
}

func (e v1Expect) touchpoints(t *testing.T, name string) []*handoffv1.Touchpoint {
	t.Helper()
	var out []*handoffv1.Touchpoint
	for _, raw := range e.Journeys[name].Touchpoints {
		out = append(out, fromJSON(t, raw, &handoffv1.Touchpoint{}))
	}
	return out
}

func (e v1Expect) changes(t *testing.T, name string) []*handoffv1.JourneyChange {
	t.Helper()
	var out []*handoffv1.JourneyChange
	for _, raw := range e.Journeys[name].Changes {
		out = append(out, fromJSON(t, raw, &handoffv1.JourneyChange{}))
	}
	return out
}
