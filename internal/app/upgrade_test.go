package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/handoffcode"
)

// upgradeDump is what the release before layout v2 wrote to Redis, clear
// and sealed, recorded by its own code (see the README beside it). The
// store's upgrade tests read it too; this one shows a handoffd started on
// it serves it.
const upgradeDump = "../store/redis/testdata/v1-redis.json"

// An upgrade of a live deployment: the previous release's instances are
// stopped, this release starts on the Redis they filled, and everything
// they kept is served, and written, over REST at once.
func TestAnUpgradedHandoffdServesWhatThePreviousReleaseStored(t *testing.T) {
	raw, err := os.ReadFile(upgradeDump)
	require.NoError(t, err)
	var d struct {
		RecordedAtMs int64  `json:"recorded_at_ms"`
		SealingKeys  string `json:"sealing_keys"`
		Expect       map[string]struct {
			Journeys map[string]struct {
				Journey     map[string]any   `json:"journey"`
				Touchpoints []map[string]any `json:"touchpoints"`
			} `json:"journeys"`
			LiveCode string `json:"live_code"`
		} `json:"expect"`
		Keys []upgradeKey `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))

	for _, dep := range []struct {
		name     string
		recorded string
		sealed   bool
	}{
		{"a_deployment_in_clear", "handoff:", false},
		{"a_sealing_deployment", "sealed:", true},
	} {
		t.Run(dep.name, func(t *testing.T) {
			h := start(t, redisStore, func(cfg *config.Config) {
				// Before handoffd serves: as the previous release left it.
				restoreUpgradeDump(t, cfg.RedisURL, d.Keys, d.RecordedAtMs, dep.recorded, cfg.RedisKeyPrefix)
				if dep.sealed {
					cfg.EncryptionKeys = d.SealingKeys
				}
			})
			e := d.Expect[dep.recorded]
			quote := "customers/c-1/journeys/quote"
			before := e.Journeys[quote].Journey
			require.NotEmpty(t, before)

			listed := func(t *testing.T, token string) {
				t.Helper()
				status, body := h.rest(t, "GET", "/v1/customers/c-1/journeys", token, nil)
				require.Equal(t, http.StatusOK, status, "%v", body)
				var got []string
				for _, j := range body["journeys"].([]any) {
					got = append(got, j.(map[string]any)["name"].(string))
				}
				require.Equal(t, []string{"customers/c-1/journeys/renewal", "customers/c-1/journeys/booking", quote}, got)
			}

			t.Run("the_customer's_list_reads_with_every_journey", func(t *testing.T) {
				listed(t, c1Token)
			})

			t.Run("each_journey_reads_as_the_previous_release_stored_it", func(t *testing.T) {
				for name, j := range e.Journeys {
					customer := strings.Split(name, "/")[1]
					token := map[string]string{"c-1": c1Token, "c-2": c2Token}[customer]
					status, body := h.rest(t, "GET", "/v1/"+name, token, nil)
					require.Equal(t, http.StatusOK, status, "%s: %v", name, body)
					require.Equal(t, j.Journey["data"], body["data"], name)
					require.Equal(t, j.Journey["step"], body["step"], name)
					require.Equal(t, j.Journey["state"], body["state"], name)
					require.Equal(t, j.Journey["createTime"], body["createTime"], name)
					if name == "customers/c-2/journeys/home" {
						// bob's claim lapsed long ago: the read releases it.
						require.Empty(t, body["assignee"], name)
						continue
					}
					for _, field := range []string{"etag", "assignee", "assigneeDisplayName", "claimExpireTime", "updateTime", "channel", "journeyType"} {
						require.Equal(t, orEmpty(j.Journey[field]), orEmpty(body[field]), "%s: %s", name, field)
					}
				}
			})

			t.Run("an_agent's_audited_listing_converts_every_journey_it_shows", func(t *testing.T) {
				// Each view is a write, the first to each v1 record.
				listed(t, aliceToken)
				opts, err := goredis.ParseURL(h.redis.URL())
				require.NoError(t, err)
				c := goredis.NewClient(opts)
				defer c.Close()
				for _, j := range []string{"quote", "booking", "renewal"} {
					rec, err := c.HGetAll(t.Context(), "handoff:{c-1}:j:"+j).Result()
					require.NoError(t, err)
					require.Equal(t, "2", rec["v"], j)
					require.NotContains(t, rec, "body", j)
				}
			})

			t.Run("the_timeline_reads_in_full", func(t *testing.T) {
				status, body := h.rest(t, "GET", "/v1/"+quote+"/touchpoints", c1Token, nil)
				require.Equal(t, http.StatusOK, status, "%v", body)
				tps := body["touchpoints"].([]any)
				want := e.Journeys[quote].Touchpoints
				// alice's listing recorded that she viewed it.
				require.Len(t, tps, len(want)+1)
				viewed := tps[len(want)].(map[string]any)
				require.Equal(t, "TOUCHPOINT_KIND_VIEWED", viewed["kind"])
				require.Equal(t, "alice", viewed["actor"].(map[string]any)["id"])
				for i, tp := range tps[:len(want)] {
					for _, field := range []string{"name", "kind", "step", "note", "time"} {
						require.Equal(t, orEmpty(want[i][field]), orEmpty(tp.(map[string]any)[field]), "touchpoint %d: %s", i+1, field)
					}
				}
			})

			t.Run("an_agent_redeems_the_code_the_customer_was_given_before", func(t *testing.T) {
				status, body := h.rest(t, "POST", "/v1/handoffs/"+handoffcode.Format(e.LiveCode)+":redeem", aliceToken, map[string]any{})
				require.Equal(t, http.StatusOK, status, "%v", body)
				require.Equal(t, quote, body["name"])
				require.Equal(t, "alice", body["assignee"])
				require.Equal(t, before["etag"], body["etag"], "a redeem changes no content")

				status, body = h.rest(t, "POST", "/v1/handoffs/"+handoffcode.Format(e.LiveCode)+":redeem", aliceToken, map[string]any{})
				require.Equal(t, http.StatusNotFound, status, "used once: %v", body)
			})

			t.Run("the_customer_saves_with_the_etag_read_before_the_upgrade", func(t *testing.T) {
				status, body := h.rest(t, "PATCH", "/v1/"+quote, c1Token, map[string]any{
					"etag": before["etag"],
					"data": map[string]any{"cover": map[string]any{"excess": 1000}},
				})
				require.Equal(t, http.StatusOK, status, "%v", body)
				etag := mustInt(t, before["etag"])
				require.Equal(t, strconv.FormatInt(etag+1, 10), body["etag"])
				cover := body["data"].(map[string]any)["cover"].(map[string]any)
				require.Equal(t, 1000.0, cover["excess"])
				require.Equal(t, "comprehensive", cover["level"], "the other answers stay")

				status, got := h.rest(t, "GET", "/v1/"+quote, c1Token, nil)
				require.Equal(t, http.StatusOK, status, "%v", got)
				require.Equal(t, body["data"], got["data"])
				require.Equal(t, "alice", got["assignee"])
			})
		})
	}
}

// upgradeKey is one key of the dump (see the store's v1dump_test.go).
type upgradeKey struct {
	Key        string                     `json:"key"`
	Type       string                     `json:"type"`
	ExpireAtMs int64                      `json:"expire_at_ms"`
	String     json.RawMessage            `json:"string"`
	Hash       map[string]json.RawMessage `json:"hash"`
	List       []json.RawMessage          `json:"list"`
	Set        []json.RawMessage          `json:"set"`
	SortedSet  []struct {
		Member json.RawMessage `json:"member"`
		Score  float64         `json:"score"`
	} `json:"zset"`
}

// restoreUpgradeDump writes the keys recorded under prefix from to the
// Redis at url, under prefix to, each expiring as long after now as it did
// after the recording.
func restoreUpgradeDump(t *testing.T, url string, keys []upgradeKey, recordedAtMs int64, from, to string) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	require.NoError(t, err)
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx := t.Context()
	// A value is a string of printable text, or {"base64": ...}.
	value := func(raw json.RawMessage) []byte {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s)
		}
		var o struct {
			Base64 string `json:"base64"`
		}
		require.NoError(t, json.Unmarshal(raw, &o))
		b, err := base64.StdEncoding.DecodeString(o.Base64)
		require.NoError(t, err)
		return b
	}
	offset := time.Now().UnixMilli() - recordedAtMs
	pipe := c.TxPipeline()
	n := 0
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k.Key, from)
		if !ok {
			continue
		}
		n++
		name := to + rest
		switch k.Type {
		case "string":
			pipe.Set(ctx, name, value(k.String), 0)
		case "hash":
			for f, v := range k.Hash {
				pipe.HSet(ctx, name, f, value(v))
			}
		case "list":
			for _, v := range k.List {
				pipe.RPush(ctx, name, value(v))
			}
		case "set":
			for _, v := range k.Set {
				pipe.SAdd(ctx, name, value(v))
			}
		case "zset":
			for _, m := range k.SortedSet {
				pipe.ZAdd(ctx, name, goredis.Z{Member: value(m.Member), Score: m.Score})
			}
		default:
			t.Fatalf("key %s has type %q, which the restore does not know", k.Key, k.Type)
		}
		if k.ExpireAtMs >= 0 {
			pipe.PExpireAt(ctx, name, time.UnixMilli(k.ExpireAtMs+offset))
		}
	}
	require.NotZero(t, n, "no key under %q", from)
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
}

// orEmpty is a JSON field's value with absent and null as "": the
// recording left empty fields out, handoffd writes them.
func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func mustInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	require.NoError(t, err)
	return n
}
