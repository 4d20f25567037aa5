package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The journey types the repository ships as examples (docs/journeytypes.md).
const (
	quoteType = "car-insurance-quote"
	claimType = "home-insurance-claim"
	// anIBAN is the sensitive answer the tests look for everywhere staff read.
	anIBAN = "NL91ABNA0417164300"
)

func withExampleTypes(t testing.TB) func(*config.Config) {
	dir := filepath.Join(testutil.RepoRoot(t), "examples", "journey-types")
	return func(c *config.Config) { c.JourneyTypesDir = dir }
}

func (h *harness) types() handoffv1.JourneyTypeServiceClient {
	return handoffv1.NewJourneyTypeServiceClient(h.conn)
}

func structOf(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

// newClaim is a home-insurance claim the customer c-42 started online.
func newClaim(t testing.TB, h *harness, data map[string]any) *handoffv1.Journey {
	t.Helper()
	j, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
		Parent:  "customers/c-42",
		Journey: &handoffv1.Journey{JourneyType: claimType, Data: structOf(t, data)},
	})
	require.NoError(t, err)
	return j
}

// setAnswer sets one answer (or the step, for path "step") as the caller.
func setAnswer(ctx context.Context, h *harness, name, path string, value any) (*handoffv1.Journey, error) {
	j := &handoffv1.Journey{Name: name}
	if path == "step" {
		j.Step = value.(string)
	} else {
		v, err := structpb.NewValue(value)
		if err != nil {
			return nil, err
		}
		j.Data = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		parts := strings.Split(path, ".")
		cur := j.Data
		for _, k := range parts[:len(parts)-1] {
			next := &structpb.Struct{Fields: map[string]*structpb.Value{}}
			cur.Fields[k] = structpb.NewStructValue(next)
			cur = next
		}
		cur.Fields[parts[len(parts)-1]] = v
		path = "data." + path
	}
	return h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{Journey: j, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{path}}})
}

func TestJourneysOfADeclaredTypeGetItsLatestVersionAndStartAtItsFirstStep(t *testing.T) {
	h := start(t, memoryStore, withExampleTypes(t))
	j := newClaim(t, h, map[string]any{"incident": map[string]any{"kind": "water"}})
	require.Equal(t, int64(1), j.GetJourneyTypeVersion())
	require.Equal(t, "incident", j.GetStep())
	require.WithinDuration(t, j.GetUpdateTime().AsTime().Add(14*24*time.Hour), j.GetExpireTime().AsTime(), time.Second, "the type's ttl")

	free, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "undeclared-type", Step: "anything", Data: structOf(t, map[string]any{"any": map[string]any{"thing": 1}})},
	})
	require.NoError(t, err, "a journey of no declared type keeps working as before")
	require.Zero(t, free.GetJourneyTypeVersion())
}

func TestAnAnswerItsTypeDoesNotAllowIsRefusedWithItsPathAndChangesNothing(t *testing.T) {
	h := start(t, memoryStore, withExampleTypes(t))
	tests := []struct {
		name, path string
		value      any
		field      string
	}{
		{"an_iban_that_is_not_one", "payment.iban", "SECRET-NOT-AN-IBAN", "journey.data.payment.iban"},
		{"a_kind_of_damage_not_among_the_options", "incident.kind", "SECRET-meteor", "journey.data.incident.kind"},
		{"a_number_where_text_belongs", "contact.name", 12345, "journey.data.contact.name"},
		{"an_answer_the_step_does_not_ask", "contact.nickname", "SECRET-x", "journey.data.contact.nickname"},
		{"an_answer_of_a_step_the_type_does_not_have", "garden.shed", "SECRET-x", "journey.data.garden.shed"},
		{"an_answer_below_an_answer", "payment.iban.bank", "SECRET-x", "journey.data.payment.iban.bank"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_over_grpc", func(t *testing.T) {
			j := newClaim(t, h, map[string]any{"incident": map[string]any{"kind": "water"}})
			_, err := setAnswer(as(t, c42Token), h, j.GetName(), tt.path, tt.value)
			st := requireCode(t, err, codes.InvalidArgument)
			require.NotContains(t, st.Message(), "SECRET", "the refusal repeats the value")
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						fields = append(fields, v.GetField())
						require.NotEmpty(t, v.GetDescription())
						require.NotContains(t, v.GetDescription(), "SECRET-")
					}
				}
			}
			require.Contains(t, fields, tt.field)
			after, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			require.Equal(t, j.GetRevision(), after.GetRevision(), "a refused save changed the journey")
			require.Len(t, websiteTimeline(t, h, j.GetName()), 1)
		})
	}
	t.Run("over_rest_as_400_naming_the_answer", func(t *testing.T) {
		j := newClaim(t, h, nil)
		code, body := h.rest(t, "PATCH", "/v1/"+j.GetName(), c42Token, map[string]any{"data": map[string]any{"payment": map[string]any{"iban": "SECRET-NOT-AN-IBAN"}}})
		require.Equal(t, 400, code)
		require.Contains(t, fmt.Sprint(body["details"]), "journey.data.payment.iban")
		require.NotContains(t, fmt.Sprint(body), "SECRET")
	})
	t.Run("a_create_with_such_an_answer_creates_nothing", func(t *testing.T) {
		before, err := h.api.ListJourneys(as(t, c42Token), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
		require.NoError(t, err)
		_, err = h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
			Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: claimType, Data: structOf(t, map[string]any{"incident": map[string]any{"kind": "meteor"}})},
		})
		requireCode(t, err, codes.InvalidArgument)
		after, err := h.api.ListJourneys(as(t, c42Token), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
		require.NoError(t, err)
		require.Len(t, after.GetJourneys(), len(before.GetJourneys()))
	})
	t.Run("removing_an_answer_is_always_allowed", func(t *testing.T) {
		j := newClaim(t, h, map[string]any{"incident": map[string]any{"kind": "water"}})
		_, err := h.api.UpdateJourney(as(t, c42Token), &handoffv1.UpdateJourneyRequest{
			Journey: &handoffv1.Journey{Name: j.GetName()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.incident.kind"}},
		})
		require.NoError(t, err)
	})
}

func TestAMoveBetweenStepsTheTypeDoesNotAllowIsRefused(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t))
	j := newClaim(t, h, nil) // on incident; then contact, payment, review
	steps := []struct {
		to   string
		want codes.Code
	}{
		{"review", codes.FailedPrecondition}, // skipping ahead
		{"payment", codes.FailedPrecondition},
		{"incident", codes.OK}, // staying
		{"contact", codes.OK},  // the following step
		{"payment", codes.OK},
		{"incident", codes.OK}, // going back
		{"garden", codes.InvalidArgument},
	}
	for _, s := range steps {
		before := websiteTimeline(t, h, j.GetName())
		_, err := setAnswer(as(t, c42Token), h, j.GetName(), "step", s.to)
		if s.want == codes.OK {
			require.NoError(t, err, "to %s", s.to)
			continue
		}
		requireCode(t, err, s.want)
		require.Len(t, websiteTimeline(t, h, j.GetName()), len(before), "a refused move to %s changed the journey", s.to)
	}
	got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, "incident", got.GetStep())
}

func TestANewTypeVersionAppliesToNewJourneysWhileStartedOnesKeepTheirs(t *testing.T) {
	one := start(t, redisStore, withExampleTypes(t))
	two := start(t, sharedRedis(one), withExampleTypes(t))
	old := newClaim(t, one, nil)

	// Version 2 allows only short descriptions.
	def, err := one.types().GetJourneyType(as(t, c42Token), &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType})
	require.NoError(t, err)
	def.GetSteps()[0].GetAnswers()[2].GetSchema().GetFields()["maxLength"] = structpb.NewNumberValue(10)
	v2, err := one.types().UpdateJourneyType(as(t, adminToken), &handoffv1.UpdateJourneyTypeRequest{JourneyType: def})
	require.NoError(t, err)
	require.Equal(t, int64(2), v2.GetVersion())

	// The other instance learns of it by itself.
	var fresh *handoffv1.Journey
	require.Eventually(t, func() bool {
		fresh = newClaim(t, two, nil)
		return fresh.GetJourneyTypeVersion() == 2
	}, 5*time.Second, 100*time.Millisecond)
	long := "a description longer than ten characters"
	_, err = setAnswer(as(t, c42Token), two, fresh.GetName(), "incident.description", long)
	requireCode(t, err, codes.InvalidArgument)

	// The journey started under version 1 keeps it, on both instances,
	// even through one that never saw it before.
	for _, h := range []*harness{two, one} {
		saved, err := setAnswer(as(t, c42Token), h, old.GetName(), "incident.description", long)
		require.NoError(t, err)
		require.Equal(t, int64(1), saved.GetJourneyTypeVersion())
	}
	v1, err := two.types().GetJourneyType(as(t, c42Token), &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType + "@1"})
	require.NoError(t, err)
	require.Equal(t, int64(1), v1.GetVersion(), "the old version stays readable")
}

func TestJourneyTypesAreManagedThroughTheAdminAPIWithEtags(t *testing.T) {
	h := start(t, memoryStore)
	def := &handoffv1.JourneyType{
		Name:  "journeyTypes/address-change",
		Title: map[string]string{"en": "Address change"},
		Steps: []*handoffv1.JourneyStep{{Id: "address", Answers: []*handoffv1.AnswerDefinition{{Key: "street", Kind: "text"}}}},
	}
	_, err := h.types().CreateJourneyType(as(t, aliceToken), &handoffv1.CreateJourneyTypeRequest{JourneyType: def})
	requireCode(t, err, codes.PermissionDenied)

	v1, err := h.types().CreateJourneyType(as(t, adminToken), &handoffv1.CreateJourneyTypeRequest{JourneyType: def})
	require.NoError(t, err)
	require.Equal(t, "1", v1.GetEtag())
	_, err = h.types().CreateJourneyType(as(t, adminToken), &handoffv1.CreateJourneyTypeRequest{JourneyType: def})
	requireCode(t, err, codes.AlreadyExists)

	same, err := h.types().UpdateJourneyType(as(t, adminToken), &handoffv1.UpdateJourneyTypeRequest{JourneyType: v1})
	require.NoError(t, err)
	require.Equal(t, int64(1), same.GetVersion(), "an unchanged definition is no new version")

	changed := proto.CloneOf(v1)
	changed.Title["en"] = "Moving house"
	v2, err := h.types().UpdateJourneyType(as(t, adminToken), &handoffv1.UpdateJourneyTypeRequest{JourneyType: changed})
	require.NoError(t, err)
	require.Equal(t, int64(2), v2.GetVersion())

	stale := proto.CloneOf(changed)
	stale.Title["en"] = "Stale"
	_, err = h.types().UpdateJourneyType(as(t, adminToken), &handoffv1.UpdateJourneyTypeRequest{JourneyType: stale}) // etag "1"
	requireCode(t, err, codes.Aborted)

	broken := proto.CloneOf(v2)
	broken.Steps = append(broken.Steps, &handoffv1.JourneyStep{Id: "address"}, &handoffv1.JourneyStep{Id: "bad.id"})
	_, err = h.types().UpdateJourneyType(as(t, adminToken), &handoffv1.UpdateJourneyTypeRequest{JourneyType: broken})
	st := requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "address")
	require.Contains(t, st.Message(), "bad.id", "every reason, not just the first")

	list, err := h.types().ListJourneyTypes(as(t, c42Token), &handoffv1.ListJourneyTypesRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetJourneyTypes(), 1)
	require.Equal(t, "Moving house", list.GetJourneyTypes()[0].GetTitle()["en"], "nothing of the refused definitions was stored")

	code, body := h.rest(t, "GET", "/v1/journeyTypes/address-change@1", c42Token, nil)
	require.Equal(t, 200, code)
	require.Equal(t, "Address change", body["title"].(map[string]any)["en"])
	code, _ = h.rest(t, "GET", "/v1/journeyTypes/no-such-type", c42Token, nil)
	require.Equal(t, 404, code)
}

func TestAJourneyTypesDirectoryLoadsWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "examples", "journey-types", claimType+".yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "claim.yaml"), example, 0o600))
	h := start(t, memoryStore, func(c *config.Config) { c.JourneyTypesDir = dir })

	// One good change and one broken file: neither lands.
	changed := strings.Replace(string(example), "Home insurance claim", "Home claim", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "claim.yaml"), []byte(changed), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: journeyTypes/broken\nsteps: []\n"), 0o600))
	err = h.app.ReloadJourneyTypes(t.Context())
	require.ErrorContains(t, err, "broken.yaml")
	got, err := h.types().GetJourneyType(as(t, c42Token), &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType})
	require.NoError(t, err)
	require.Equal(t, int64(1), got.GetVersion())

	require.NoError(t, os.Remove(filepath.Join(dir, "broken.yaml")))
	require.NoError(t, h.app.ReloadJourneyTypes(t.Context()))
	got, err = h.types().GetJourneyType(as(t, c42Token), &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType})
	require.NoError(t, err)
	require.Equal(t, int64(2), got.GetVersion())
	require.Equal(t, "Home claim", got.GetTitle()["en"])

	t.Run("handoffd_does_not_start_on_a_directory_that_does_not_load", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: journeyTypes/broken\n"), 0o600))
		cfg := config.Default()
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.JourneyTypesDir = "127.0.0.1:0", "127.0.0.1:0", dir
		cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
		require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
		_, err := appNew(t, cfg)
		require.ErrorContains(t, err, "--journey-types-dir")
	})
}

// requireNoValue fails when m, as protobuf or JSON, holds value anywhere.
func requireNoValue(t *testing.T, m proto.Message, value, what string) {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	require.NotContains(t, string(b), value, "%s holds the value", what)
	require.NotContains(t, protojson.Format(m), value, "%s holds the value", what)
}

func TestASensitiveAnswerIsMaskedForEveryoneButTheCustomerUntilRevealed(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t))
	j := newClaim(t, h, map[string]any{"incident": map[string]any{"kind": "water"}, "payment": map[string]any{"iban": anIBAN}})
	require.Equal(t, anIBAN, j.GetData().GetFields()["payment"].GetStructValue().GetFields()["iban"].GetStringValue(), "the customer reads her own IBAN")

	// An agent watching from before the next change.
	ctx, cancel := context.WithCancel(as(t, aliceToken, "x-handoff-channel", "phone"))
	defer cancel()
	stream, err := h.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	snapshot, err := stream.Recv()
	require.NoError(t, err)
	requireNoValue(t, snapshot, anIBAN, "the agent's watch snapshot")
	require.Contains(t, snapshot.GetJourney().GetMaskedAnswers(), "payment.iban")

	other := "DE89370400440532013000"
	_, err = setAnswer(as(t, c42Token), h, j.GetName(), "payment.iban", other)
	require.NoError(t, err)
	change, err := stream.Recv()
	require.NoError(t, err)
	for change.GetSnapshot() || len(change.GetJourney().GetData().GetFields()) == 0 {
		change, err = stream.Recv()
		require.NoError(t, err)
	}
	requireNoValue(t, change, other, "the agent's watched change")
	require.Equal(t, "•••• 3000", change.GetJourney().GetData().GetFields()["payment"].GetStructValue().GetFields()["iban"].GetStringValue())

	for _, staff := range []struct{ name, token string }{{"an_agent", aliceToken}, {"a_website", websiteToken}, {"an_admin", adminToken}} {
		t.Run(staff.name+"_reads_it_masked_everywhere", func(t *testing.T) {
			ctx := as(t, staff.token, "x-handoff-channel", "phone")
			got, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			requireNoValue(t, got, other, "a read")
			require.Equal(t, []string{"payment.iban"}, got.GetMaskedAnswers())
			list, err := h.api.ListJourneys(ctx, &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
			require.NoError(t, err)
			requireNoValue(t, list, other, "a list")
			saved, err := setAnswer(ctx, h, j.GetName(), "contact.name", "Anna Lindqvist")
			require.NoError(t, err)
			requireNoValue(t, saved, other, "a save's answer")
			for _, mask := range [][]string{{"data"}, {"data", "etag"}, {"data", "masked_answers"}} {
				asked, err := h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
					Journey:    &handoffv1.Journey{Name: j.GetName(), Data: structOf(t, map[string]any{"contact": map[string]any{"name": "Anna L."}})},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.contact.name"}},
					ReadMask:   &fieldmaskpb.FieldMask{Paths: mask},
				})
				require.NoError(t, err)
				requireNoValue(t, asked, other, fmt.Sprintf("a save's answer with read_mask %v", mask))
			}
			code, body := h.rest(t, "PATCH", "/v1/"+j.GetName()+"?readMask=data", staff.token, map[string]any{"data": map[string]any{"contact": map[string]any{"name": "Anna L."}}}, "x-handoff-channel", "phone")
			require.Equal(t, 200, code)
			require.NotContains(t, fmt.Sprint(body), other, "a REST save's answer with readMask=data holds the value")

			// What staff read masked they cannot save back.
			_, err = setAnswer(ctx, h, j.GetName(), "payment.iban", "•••• 3000")
			st := requireCode(t, err, codes.InvalidArgument)
			require.Contains(t, st.Message(), "payment.iban")
			_, err = setAnswer(ctx, h, j.GetName(), "payment", map[string]any{"iban": "•••• 3000", "accountHolder": "A. Lindqvist"})
			requireCode(t, err, codes.InvalidArgument)
			code, body = h.rest(t, "GET", "/v1/"+j.GetName(), staff.token, nil, "x-handoff-channel", "phone")
			require.Equal(t, 200, code)
			require.NotContains(t, fmt.Sprint(body), other, "a REST read holds the value")
		})
	}
	t.Run("an_agent_who_claims_or_redeems_reads_it_masked", func(t *testing.T) {
		claimed, err := h.api.ClaimJourney(as(t, bobToken, "x-handoff-channel", "phone"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		requireNoValue(t, claimed, other, "a claim's answer")
		released, err := h.api.ReleaseJourney(as(t, bobToken, "x-handoff-channel", "phone"), &handoffv1.ReleaseJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		requireNoValue(t, released, other, "a release's answer")
		offer, err := h.api.HandoffJourney(as(t, c42Token), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		redeemed, err := h.api.RedeemHandoff(as(t, bobToken, "x-handoff-channel", "phone"), &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
		require.NoError(t, err)
		requireNoValue(t, redeemed, other, "a redeem's answer")
	})
	t.Run("an_sse_watch_sends_it_masked", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		events := sseLines(ctx, t, h.base+"/v1/"+j.GetName()+":watch", aliceToken, "")
		ev := <-events
		require.NotContains(t, ev, other)
		require.Contains(t, ev, "•••• 3000")
	})

	t.Run("the_answer_is_still_the_customers", func(t *testing.T) {
		got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, other, got.GetData().GetFields()["payment"].GetStructValue().GetFields()["iban"].GetStringValue(), "a staff save replaced it")
	})
	t.Run("an_agent_reveals_it_for_a_reason_the_customer_reads", func(t *testing.T) {
		_, err := h.api.RevealAnswer(as(t, aliceToken), &handoffv1.RevealAnswerRequest{Name: j.GetName(), Path: "contact.name", Reason: "checking"})
		requireCode(t, err, codes.InvalidArgument) // not sensitive
		_, err = h.api.RevealAnswer(as(t, aliceToken), &handoffv1.RevealAnswerRequest{Name: j.GetName(), Path: "payment.iban"})
		requireCode(t, err, codes.InvalidArgument) // no reason
		_, err = h.api.RevealAnswer(as(t, c42Token), &handoffv1.RevealAnswerRequest{Name: j.GetName(), Path: "payment.iban", Reason: "x"})
		requireCode(t, err, codes.PermissionDenied)

		revealed, err := h.api.RevealAnswer(as(t, aliceToken, "x-handoff-channel", "phone"), &handoffv1.RevealAnswerRequest{
			Name: j.GetName(), Path: "payment.iban", Reason: "the customer asked to check the payout account"})
		require.NoError(t, err)
		require.Equal(t, other, revealed.GetValue().GetStringValue())

		tps, err := h.api.ListTouchpoints(as(t, c42Token), &handoffv1.ListTouchpointsRequest{Parent: j.GetName()})
		require.NoError(t, err)
		last := tps.GetTouchpoints()[len(tps.GetTouchpoints())-1]
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_REVEALED, last.GetKind())
		require.Equal(t, []string{"payment.iban"}, last.GetAnswers())
		require.Equal(t, "the customer asked to check the payout account", last.GetReason())
		require.Equal(t, "alice", last.GetActor().GetId())
		require.Equal(t, handoffv1.Channel_CHANNEL_PHONE, last.GetChannel())
		requireNoValue(t, tps, other, "the timeline")

		got, err := h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		requireNoValue(t, got, other, "a read after the reveal")
	})
}

func TestEachAnswerSaysWhoChangedItAfterConcurrentSavesFromTwoChannels(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t))
	j := newClaim(t, h, nil)
	writers := []struct {
		token, channel, id, path string
		role                     handoffv1.Role
		want                     handoffv1.Channel
	}{
		{c42Token, "web", "c-42", "incident.description", handoffv1.Role_ROLE_CUSTOMER, handoffv1.Channel_CHANNEL_WEB},
		{aliceToken, "phone", "alice", "contact.name", handoffv1.Role_ROLE_AGENT, handoffv1.Channel_CHANNEL_PHONE},
	}
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Go(func() {
			for i := range 20 {
				_, err := setAnswer(as(t, w.token, "x-handoff-channel", w.channel), h, j.GetName(), w.path, fmt.Sprintf("answer %d", i))
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()

	basic, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Nil(t, basic.GetAnswerProvenance(), "only the FULL view says who changed each answer")
	got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName(), View: handoffv1.JourneyView_JOURNEY_VIEW_FULL})
	require.NoError(t, err)
	tps := websiteTimeline(t, h, j.GetName())
	for _, w := range writers {
		p := got.GetAnswerProvenance()[w.path]
		require.NotNil(t, p, "%s names no writer", w.path)
		require.Equal(t, w.id, p.GetActor().GetId())
		require.Equal(t, w.role, p.GetActor().GetRole())
		require.Equal(t, w.want, p.GetChannel())
		// The touchpoint named is that writer's last save, which names the
		// answer and not its value.
		var last *handoffv1.Touchpoint
		for _, tp := range tps {
			if tp.GetActor().GetId() == w.id && tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED {
				last = tp
			}
		}
		require.Equal(t, last.GetName(), p.GetTouchpoint())
		require.Equal(t, []string{w.path}, last.GetAnswers())
		require.True(t, p.GetTime().AsTime().Equal(last.GetTime().AsTime()))
	}
	requireNoValue(t, &handoffv1.ListTouchpointsResponse{Touchpoints: tps}, "answer 19", "the timeline")

	// An agent's FULL read is audited like any read, and masked like any.
	before := len(websiteTimeline(t, h, j.GetName()))
	agents, err := h.api.GetJourney(as(t, aliceToken, "x-handoff-channel", "phone"), &handoffv1.GetJourneyRequest{Name: j.GetName(), View: handoffv1.JourneyView_JOURNEY_VIEW_FULL})
	require.NoError(t, err)
	require.Equal(t, "alice", agents.GetAnswerProvenance()["contact.name"].GetActor().GetId())
	require.Len(t, websiteTimeline(t, h, j.GetName()), before+1, "the read is recorded as VIEWED")
}

// appNew builds handoffd from cfg, as main does, and closes what it built.
func appNew(t *testing.T, cfg config.Config) (*app.App, error) {
	t.Helper()
	a, err := app.New(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err == nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_ = a.Run(ctx)
		})
	}
	return a, err
}

func TestAJourneyStartedBeforeItsTypeWasDeclaredStaysFree(t *testing.T) {
	one := start(t, redisStore)
	two := start(t, sharedRedis(one))
	j, err := one.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "address-change", Step: "anywhere"},
	})
	require.NoError(t, err)
	_, err = one.types().CreateJourneyType(as(t, adminToken), &handoffv1.CreateJourneyTypeRequest{JourneyType: &handoffv1.JourneyType{
		Name:  "journeyTypes/address-change",
		Steps: []*handoffv1.JourneyStep{{Id: "address", Answers: []*handoffv1.AnswerDefinition{{Key: "street", Kind: "text"}}}},
	}})
	require.NoError(t, err)

	// Once the other instance knows the type (its creates get it)...
	require.Eventually(t, func() bool {
		fresh, err := two.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
			Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "address-change"},
		})
		require.NoError(t, err)
		return fresh.GetJourneyTypeVersion() == 1
	}, 5*time.Second, 100*time.Millisecond)
	// ...a save through it, which never saw the journey, by a caller that
	// names the type: the journey is still of no declared version.
	for _, h := range []*harness{two, one} {
		data := structOf(t, map[string]any{"anything": map[string]any{"goes": 1}})
		saved, err := h.api.UpdateJourney(as(t, c42Token), &handoffv1.UpdateJourneyRequest{
			Journey: &handoffv1.Journey{Name: j.GetName(), JourneyType: "address-change", Data: data},
		})
		require.NoError(t, err)
		require.Zero(t, saved.GetJourneyTypeVersion())
	}
}

func TestStaffCannotSaveBackASensitiveAnswerTheyReadMasked(t *testing.T) {
	h := start(t, memoryStore)
	_, err := h.types().CreateJourneyType(as(t, adminToken), &handoffv1.CreateJourneyTypeRequest{JourneyType: &handoffv1.JourneyType{
		Name: "journeyTypes/account-recovery",
		// No schema: only the mask rule keeps "••••" from replacing it.
		Steps: []*handoffv1.JourneyStep{{Id: "check", Answers: []*handoffv1.AnswerDefinition{{Key: "word", Sensitive: true}, {Key: "note"}}}},
	}})
	require.NoError(t, err)
	j, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{
		JourneyType: "account-recovery", Data: structOf(t, map[string]any{"check": map[string]any{"word": "swordfish"}})}})
	require.NoError(t, err)

	read, err := h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	// The agent's form saves the whole step as it read it.
	_, err = h.api.UpdateJourney(as(t, aliceToken), &handoffv1.UpdateJourneyRequest{
		Journey: &handoffv1.Journey{Name: j.GetName(), Data: structOf(t, map[string]any{"check": map[string]any{
			"word": read.GetData().GetFields()["check"].GetStructValue().GetFields()["word"].GetStringValue(), "note": "called in"}})},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.check"}},
	})
	st := requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "check.word")

	got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, "swordfish", got.GetData().GetFields()["check"].GetStructValue().GetFields()["word"].GetStringValue())
}

func TestAWatchFollowsAJourneyCreatedAgainUnderItsNameMaskedByItsNewType(t *testing.T) {
	h := start(t, redisStore, withExampleTypes(t))
	create := func(journeyType string) {
		t.Helper()
		_, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{Parent: "customers/c-42", JourneyId: "again", Journey: &handoffv1.Journey{
			JourneyType: journeyType, Data: structOf(t, map[string]any{"payment": map[string]any{"iban": anIBAN}})}})
		require.NoError(t, err)
	}
	name := "customers/c-42/journeys/again"
	create("untyped-before") // no declared type: nothing is sensitive
	ctx, cancel := context.WithTimeout(as(t, adminToken, "x-handoff-channel", "phone"), 10*time.Second)
	defer cancel()
	stream, err := h.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: name})
	require.NoError(t, err)
	first, err := stream.Recv()
	require.NoError(t, err)
	require.Contains(t, protojson.Format(first), anIBAN, "no type declares it sensitive yet")
	_, err = setAnswer(as(t, c42Token), h, name, "payment.note", "x")
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)

	_, err = h.api.DeleteCustomer(as(t, adminToken), &handoffv1.DeleteCustomerRequest{Name: "customers/c-42"})
	require.NoError(t, err)
	create(claimType)
	c, err := stream.Recv()
	require.NoError(t, err, "the watch never heard of the journey created again")
	require.True(t, c.GetSnapshot(), "the new journey comes as a snapshot: its revisions start over")
	require.Equal(t, int64(1), c.GetRevision())
	require.Equal(t, claimType, c.GetJourney().GetJourneyType())
	requireNoValue(t, c, anIBAN, "the new journey's snapshot, masked by its type")
}
