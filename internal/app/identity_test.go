package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// annasPhone is the number Anna calls from, as an agent's screen shows it.
const annasPhone = "+31 6 1234 5678"

// withIdentityKeys turns identity links on with a fresh key file.
func withIdentityKeys(t testing.TB) func(*config.Config) {
	path := filepath.Join(t.TempDir(), "identity-keys.txt")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	require.NoError(t, os.WriteFile(path, []byte("k1 "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600))
	return func(c *config.Config) { c.IdentityKeysFile = path }
}

func (h *harness) identities() handoffv1.IdentityServiceClient {
	return handoffv1.NewIdentityServiceClient(h.conn)
}

// annasQuote is a car-insurance quote on the driver step, its step-up
// check (driver.birthYear) answered with 1988.
func annasQuote(t *testing.T, h *harness, customer string) *handoffv1.Journey {
	t.Helper()
	j, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{Parent: "customers/" + customer, Journey: &handoffv1.Journey{
		JourneyType: "car-insurance-quote", Step: "driver",
		Data: structOf(t, map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}, "driver": map[string]any{"name": "Anna Bakker", "birthYear": 1988}}),
	}})
	require.NoError(t, err)
	return j
}

func (h *harness) link(t *testing.T, customer, identity string) *handoffv1.IdentityLink {
	t.Helper()
	l, err := h.identities().CreateIdentityLink(as(t, websiteToken), &handoffv1.CreateIdentityLinkRequest{
		Parent: "customers/" + customer, IdentityLink: &handoffv1.IdentityLink{Identity: identity}})
	require.NoError(t, err)
	return l
}

func kinds(tps []*handoffv1.Touchpoint) []handoffv1.TouchpointKind {
	out := make([]handoffv1.TouchpointKind, len(tps))
	for i, tp := range tps {
		out[i] = tp.GetKind()
	}
	return out
}

func TestAPhoneLookupShowsTypeAndStepUntilTheCallerPassesTheCheck(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind, withExampleTypes(t), withIdentityKeys(t), func(c *config.Config) {
				c.IdentityDefaultRegion = "NL"
				c.IdentityCheckFailures = 3
			})
			ids := h.identities()
			quote := annasQuote(t, h, "c-42")
			older := newJourney(t, h, "c-42") // answered only its plate
			h.link(t, "c-42", "06-12345678")
			h.link(t, "c-1", "+31 6 2345 6789") // somebody else
			ravi := as(t, aliceToken, "x-handoff-channel", "phone")

			lookup, err := ids.CreateIdentityLookup(ravi, &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
			require.NoError(t, err)
			require.Len(t, lookup.GetMatches(), 2)
			first, second := lookup.GetMatches()[0], lookup.GetMatches()[1]
			t.Run("a_match_shows_type_step_and_which_answer_to_ask_only", func(t *testing.T) {
				// The newest first: the plate-only journey was created after the quote.
				require.Equal(t, int32(1), first.GetMatch())
				require.Equal(t, "vehicle.plate", first.GetCheckAnswer())
				require.Equal(t, "driver", second.GetStep())
				require.Equal(t, "car-insurance-quote", second.GetJourneyType())
				require.Equal(t, "driver.birthYear", second.GetCheckAnswer())
				require.Equal(t, "Year of birth", second.GetCheckLabel()["en"])
				raw, err := protojson.Marshal(lookup)
				require.NoError(t, err)
				for _, secret := range []string{"c-42", "1988", "Anna", "AB-123-C", quote.GetName(), older.GetName()} {
					require.NotContains(t, string(raw), secret)
				}
			})
			t.Run("each_listed_journey_records_the_lookup", func(t *testing.T) {
				tps := timeline(t, h, quote.GetName())
				last := tps[len(tps)-1]
				require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_LOOKED_UP, last.GetKind())
				require.Equal(t, "alice", last.GetActor().GetId())
				require.Equal(t, handoffv1.Channel_CHANNEL_PHONE, last.GetChannel())
			})
			t.Run("another_agent_cannot_verify_the_lookup", func(t *testing.T) {
				_, err := ids.VerifyIdentityLookup(as(t, bobToken), &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 2, Answer: structpb.NewNumberValue(1988)})
				requireCode(t, err, codes.NotFound)
			})
			t.Run("a_wrong_answer_fails_and_is_recorded_without_either_value", func(t *testing.T) {
				_, err := ids.VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 2, Answer: structpb.NewStringValue("1987")})
				st := requireCode(t, err, codes.FailedPrecondition)
				require.Equal(t, "the answer does not match", st.Message())
				tps := timeline(t, h, quote.GetName())
				require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_CHECK_FAILED, tps[len(tps)-1].GetKind())
				require.Empty(t, tps[len(tps)-1].GetNote())
			})
			t.Run("the_right_answer_opens_the_journey_as_a_redeem_does", func(t *testing.T) {
				j, err := ids.VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 2, Answer: structpb.NewStringValue(" 1988 ")})
				require.NoError(t, err)
				require.Equal(t, quote.GetName(), j.GetName())
				require.Equal(t, "Anna Bakker", j.GetData().GetFields()["driver"].GetStructValue().GetFields()["name"].GetStringValue())
				require.Equal(t, "alice", j.GetAssignee())
				tps := timeline(t, h, quote.GetName())
				require.Equal(t, []handoffv1.TouchpointKind{
					handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_LOOKED_UP,
					handoffv1.TouchpointKind_TOUCHPOINT_KIND_CHECK_FAILED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_IDENTIFIED,
				}, kinds(tps))
			})
			t.Run("a_journey_with_no_answered_check_cannot_be_verified_and_that_is_not_counted", func(t *testing.T) {
				bare, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{Parent: "customers/c-2", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"}})
				require.NoError(t, err)
				h.link(t, "c-2", "social:instagram:@Anna.B")
				l, err := ids.CreateIdentityLookup(ravi, &handoffv1.CreateIdentityLookupRequest{Identity: "social:instagram:anna.b"})
				require.NoError(t, err)
				require.Len(t, l.GetMatches(), 1)
				require.Empty(t, l.GetMatches()[0].GetCheckAnswer())
				for range 5 {
					_, err = ids.VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: l.GetName(), Match: 1, Answer: structpb.NewStringValue("x")})
					requireCode(t, err, codes.FailedPrecondition)
				}
				require.Len(t, timeline(t, h, bare.GetName()), 2, "started and looked up: no failed check recorded")
			})
			t.Run("failed_checks_trip_the_limit", func(t *testing.T) {
				// One failure counted above; two more reach the limit of 3.
				for range 2 {
					_, err := ids.VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 1, Answer: structpb.NewStringValue("ZZ-999-Z")})
					requireCode(t, err, codes.FailedPrecondition)
				}
				_, err := ids.VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 1, Answer: structpb.NewStringValue("AB-123-C")})
				st := requireCode(t, err, codes.ResourceExhausted)
				require.Contains(t, st.Message(), "too many identity checks failed")
				var retry *errdetails.RetryInfo
				for _, d := range st.Details() {
					if r, ok := d.(*errdetails.RetryInfo); ok {
						retry = r
					}
				}
				require.NotNil(t, retry, "the refusal says when to try again")
			})
			t.Run("neither_the_identity_nor_an_answer_reaches_the_logs", func(t *testing.T) {
				logs := h.logs.String()
				for _, secret := range []string{"12345678", "anna.b", "Anna.B", "ZZ-999-Z"} {
					require.NotContains(t, logs, secret)
				}
				// Years as numbers of their own: a timestamp's fraction of a
				// second may hold their digits.
				for _, year := range []string{"1987", "1988"} {
					require.NotRegexp(t, `(^|[^0-9])`+year+`([^0-9]|$)`, logs)
				}
			})
		})
	}
}

func TestLookupsTripTheirLimit(t *testing.T) {
	h := start(t, memoryStore, withIdentityKeys(t), func(c *config.Config) { c.IdentityLookups = 2 })
	ids := h.identities()
	for range 2 {
		_, err := ids.CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
		require.NoError(t, err)
	}
	_, err := ids.CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
	st := requireCode(t, err, codes.ResourceExhausted)
	require.Contains(t, st.Message(), "too many identity lookups")
	_, err = ids.CreateIdentityLookup(as(t, bobToken), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
	require.NoError(t, err, "another agent has a budget of their own")
}

func TestIdentityLinksPerCustomerAreCapped(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind, withIdentityKeys(t), func(c *config.Config) { c.IdentityLinksPerCustomer = 2 })
			first := h.link(t, "c-42", annasPhone)
			h.link(t, "c-42", "anna@example.com")
			create := func(identity string) error {
				_, err := h.identities().CreateIdentityLink(as(t, websiteToken), &handoffv1.CreateIdentityLinkRequest{
					Parent: "customers/c-42", IdentityLink: &handoffv1.IdentityLink{Identity: identity}})
				return err
			}
			st := requireCode(t, create("social:instagram:anna.b"), codes.FailedPrecondition)
			require.Contains(t, st.Message(), "delete one")
			require.NotContains(t, st.Message(), "anna.b", "no identity in the message")
			require.NoError(t, create(annasPhone), "linking a held identity again is no new link")
			_, err := h.identities().DeleteIdentityLink(as(t, websiteToken), &handoffv1.DeleteIdentityLinkRequest{Name: first.GetName()})
			require.NoError(t, err)
			require.NoError(t, create("social:instagram:anna.b"))
		})
	}
}

func TestErasureRemovesIdentityLinks(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind, withExampleTypes(t), withIdentityKeys(t))
			annasQuote(t, h, "c-42")
			h.link(t, "c-42", annasPhone)
			h.link(t, "c-42", "anna@example.com")
			_, err := h.api.DeleteCustomer(as(t, adminToken), &handoffv1.DeleteCustomerRequest{Name: "customers/c-42"})
			require.NoError(t, err)
			links, err := h.identities().ListIdentityLinks(as(t, websiteToken), &handoffv1.ListIdentityLinksRequest{Parent: "customers/c-42"})
			require.NoError(t, err)
			require.Empty(t, links.GetIdentityLinks())
			// A journey started again after the erasure is not found by the old links.
			annasQuote(t, h, "c-42")
			for _, identity := range []string{annasPhone, "anna@example.com"} {
				l, err := h.identities().CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: identity})
				require.NoError(t, err)
				require.Empty(t, l.GetMatches())
			}
		})
	}
}

func TestNothingInRedisSpellsALinkedIdentity(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t), withIdentityKeys(t))
	annasQuote(t, h, "c-42")
	for _, identity := range []string{annasPhone, "Anna.Bakker@Example.com", "social:instagram:@Anna.B"} {
		h.link(t, "c-42", identity)
		_, err := h.identities().CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: identity})
		require.NoError(t, err)
	}
	ctx := t.Context()
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	var everything strings.Builder
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	keys := 0
	for iter.Next(ctx) {
		k := iter.Val()
		keys++
		everything.WriteString(k + "\n")
		typ, err := rdb.Type(ctx, k).Result()
		require.NoError(t, err)
		var values []string
		switch typ {
		case "string":
			v, err := rdb.Get(ctx, k).Result()
			require.NoError(t, err)
			values = []string{v}
		case "hash":
			m, err := rdb.HGetAll(ctx, k).Result()
			require.NoError(t, err)
			for f, v := range m {
				values = append(values, f, v)
			}
		case "set":
			values, err = rdb.SMembers(ctx, k).Result()
			require.NoError(t, err)
		case "zset":
			values, err = rdb.ZRange(ctx, k, 0, -1).Result()
			require.NoError(t, err)
		case "list":
			values, err = rdb.LRange(ctx, k, 0, -1).Result()
			require.NoError(t, err)
		default:
			t.Fatalf("key %s is a %s, which this test does not read", k, typ)
		}
		everything.WriteString(strings.Join(values, "\n") + "\n")
	}
	require.NoError(t, iter.Err())
	require.Greater(t, keys, 5)
	all := strings.ToLower(everything.String())
	require.Contains(t, all, "{idn:k1.", "the digests are there")
	for _, clear := range []string{"31612345678", "612345678", "6 1234 5678", "anna.bakker", "example.com", "anna.b", "instagram:anna"} {
		// Not require.NotContains: its message would print the whole dump.
		if strings.Contains(all, clear) {
			t.Errorf("Redis holds %q in clear", clear)
		}
	}
}

func TestIdentityCallsOverREST(t *testing.T) {
	h := start(t, memoryStore, withExampleTypes(t), withIdentityKeys(t))
	quote := annasQuote(t, h, "c-42")
	_ = quote
	code, body := h.rest(t, http.MethodPost, "/v1/customers/c-42/identityLinks", c42Token, map[string]any{"identity": "call me maybe"})
	require.Equal(t, http.StatusBadRequest, code, "%v", body)
	require.NotContains(t, fmt.Sprint(body), "call me maybe")
	code, body = h.rest(t, http.MethodPost, "/v1/customers/c-42/identityLinks", c42Token, map[string]any{"identity": annasPhone})
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "IDENTITY_KIND_PHONE", body["kind"])
	require.Empty(t, body["identity"], "the identity is never returned")

	code, _ = h.rest(t, http.MethodPost, "/v1/identityLookups", c42Token, map[string]any{"identity": annasPhone})
	require.Equal(t, http.StatusForbidden, code, "a customer cannot look identities up")
	code, lookup := h.rest(t, http.MethodPost, "/v1/identityLookups", aliceToken, map[string]any{"identity": annasPhone, "channel": "CHANNEL_PHONE"})
	require.Equal(t, http.StatusOK, code, "%v", lookup)
	name, _ := lookup["name"].(string)
	code, _ = h.rest(t, http.MethodPost, "/v1/"+name+":verify", bobToken, map[string]any{"match": 1, "answer": 1988})
	require.Equal(t, http.StatusNotFound, code, "another agent's lookup is not found")
	code, body = h.rest(t, http.MethodPost, "/v1/"+name+":verify", aliceToken, map[string]any{"match": 1, "answer": 1987})
	require.Equal(t, http.StatusBadRequest, code, "FAILED_PRECONDITION, as the gateway maps it: %v", body)
	require.Equal(t, "the answer does not match", body["message"])
	code, body = h.rest(t, http.MethodPost, "/v1/"+name+":verify", aliceToken, map[string]any{"match": 1, "answer": 1988, "view": "JOURNEY_VIEW_FULL"})
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, quote.GetName(), body["name"])
}

func TestWithoutAKeyFileIdentityLinksAreOff(t *testing.T) {
	h := start(t, memoryStore)
	_, err := h.identities().CreateIdentityLink(as(t, websiteToken), &handoffv1.CreateIdentityLinkRequest{Parent: "customers/c-42", IdentityLink: &handoffv1.IdentityLink{Identity: annasPhone}})
	st := requireCode(t, err, codes.FailedPrecondition)
	require.Contains(t, st.Message(), "identity links are not configured")
	_, err = h.identities().CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
	requireCode(t, err, codes.FailedPrecondition)
}

func TestRotatingTheIdentityKeyKeepsLinksFound(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			keyLine := func(id string) string {
				key := make([]byte, 32)
				_, _ = rand.Read(key)
				return id + " " + base64.StdEncoding.EncodeToString(key) + "\n"
			}
			oldKey, newKey := keyLine("k1"), keyLine("k2")
			file := filepath.Join(t.TempDir(), "identity-keys.txt")
			require.NoError(t, os.WriteFile(file, []byte(oldKey), 0o600))
			h := start(t, kind, withExampleTypes(t), func(c *config.Config) { c.IdentityKeysFile = file })
			annasQuote(t, h, "c-42")
			linked := h.link(t, "c-42", annasPhone)
			lookUp := func() int {
				l, err := h.identities().CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
				require.NoError(t, err)
				return len(l.GetMatches())
			}

			// A new key first, the old one kept: the old link is found, and
			// the lookup moves it to the new key.
			require.NoError(t, os.WriteFile(file, []byte(newKey+oldKey), 0o600))
			require.NoError(t, h.app.ReloadIdentityKeys())
			require.Equal(t, 1, lookUp())
			// The old key dropped: the link is still found, under the new one.
			require.NoError(t, os.WriteFile(file, []byte(newKey), 0o600))
			require.NoError(t, h.app.ReloadIdentityKeys())
			require.Equal(t, 1, lookUp())
			links, err := h.identities().ListIdentityLinks(as(t, websiteToken), &handoffv1.ListIdentityLinksRequest{Parent: "customers/c-42"})
			require.NoError(t, err)
			require.Len(t, links.GetIdentityLinks(), 1)
			require.Equal(t, linked.GetName(), links.GetIdentityLinks()[0].GetName(), "the link kept its name")
			require.True(t, linked.GetExpireTime().AsTime().Equal(links.GetIdentityLinks()[0].GetExpireTime().AsTime()), "and its expiry: a lookup is no relink by the customer")

			require.NoError(t, os.WriteFile(file, []byte("k3 short\n"), 0o600))
			require.Error(t, h.app.ReloadIdentityKeys(), "a bad file is refused")
			require.Equal(t, 1, lookUp(), "and the keys loaded before stay")
		})
	}
}

func TestAJourneyOpenedByACheckIsMaskedForStaff(t *testing.T) {
	h := start(t, memoryStore, withExampleTypes(t), withIdentityKeys(t))
	claim, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{
		JourneyType: claimType, Data: structOf(t, map[string]any{"contact": map[string]any{"postcode": "1234 AB"}, "payment": map[string]any{"iban": anIBAN}})}})
	require.NoError(t, err)
	h.link(t, "c-42", "anna@example.com")
	l, err := h.identities().CreateIdentityLookup(as(t, aliceToken), &handoffv1.CreateIdentityLookupRequest{Identity: "ANNA@example.com"})
	require.NoError(t, err)
	require.Len(t, l.GetMatches(), 1)
	require.Equal(t, "contact.postcode", l.GetMatches()[0].GetCheckAnswer())
	j, err := h.identities().VerifyIdentityLookup(as(t, aliceToken), &handoffv1.VerifyIdentityLookupRequest{
		Name: l.GetName(), Match: 1, Answer: structpb.NewStringValue("1234ab"), View: handoffv1.JourneyView_JOURNEY_VIEW_FULL})
	require.NoError(t, err)
	require.Equal(t, claim.GetName(), j.GetName())
	require.Equal(t, []string{"payment.iban"}, j.GetMaskedAnswers())
	require.NotContains(t, protojson.Format(j), anIBAN)
	require.NotEmpty(t, j.GetAnswerProvenance(), "the FULL view says who changed each answer")
}

// A failed step-up check is counted per journey; after the customer is
// erased no key names it (the counter is keyed by the journey name's
// SHA-256), though the counter lives out its window.
func TestAfterErasureNoIdentityCheckCounterNamesTheCustomer(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t), withIdentityKeys(t))
	annasQuote(t, h, "c-42")
	h.link(t, "c-42", annasPhone)
	ravi := as(t, aliceToken, "x-handoff-channel", "phone")
	lookup, err := h.identities().CreateIdentityLookup(ravi, &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
	require.NoError(t, err)
	_, err = h.identities().VerifyIdentityLookup(ravi, &handoffv1.VerifyIdentityLookupRequest{Name: lookup.GetName(), Match: 1, Answer: structpb.NewNumberValue(1900)})
	requireCode(t, err, codes.FailedPrecondition)
	_, err = h.api.DeleteCustomer(as(t, adminToken), &handoffv1.DeleteCustomerRequest{Name: "customers/c-42"})
	require.NoError(t, err)

	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	keys, err := rdb.Keys(t.Context(), "*").Result()
	require.NoError(t, err)
	counted := false
	for _, k := range keys {
		require.NotContains(t, k, "c-42")
		counted = counted || strings.Contains(k, "identity-check:journey:")
	}
	require.True(t, counted, "the journey's counter is there, under its digest")
}
