package ctl_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The customer Anna and the analyst Kees, beside the other tests' callers.
const insightTokensYAML = tokensYAML + `  - {token: "c42-secret", principal: "c-42", role: customer}
  - {token: "kees-secret-", principal: "kees", role: analyst}
`

func TestHandoffctlInsightShowsAJourneyStoppedOnlineAndResumedOnThePhone(t *testing.T) {
	root := testutil.RepoRoot(t)
	addr := startHandoffd(t, func(c *config.Config) {
		c.JourneyTypesDir = filepath.Join(root, "examples", "journey-types")
		c.Insight.Flush = 100 * time.Millisecond
		c.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
		require.NoError(t, os.WriteFile(c.TokensFile, []byte(insightTokensYAML), 0o600))
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	journeys, types := handoffv1.NewJourneyServiceClient(conn), handoffv1.NewJourneyTypeServiceClient(conn)
	on := func(token, channel string) metadata.MD {
		return metadata.Pairs("authorization", "Bearer "+token, "x-handoff-channel", channel)
	}

	// Anna starts a quote on the web, comes as far as the driver, and
	// continues by phone with a code Alice redeems.
	anna := metadata.NewOutgoingContext(t.Context(), on("c42-secret", "web"))
	j, err := journeys.CreateJourney(anna, &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"}})
	require.NoError(t, err)
	data, err := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}})
	require.NoError(t, err)
	_, err = journeys.UpdateJourney(anna, &handoffv1.UpdateJourneyRequest{
		Journey:    &handoffv1.Journey{Name: j.GetName(), Step: "driver", Data: data},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.vehicle", "step"}}})
	require.NoError(t, err)
	offer, err := journeys.HandoffJourney(anna, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	_, err = journeys.RedeemHandoff(metadata.NewOutgoingContext(t.Context(), on("alice-secret", "phone")), &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
	require.NoError(t, err)

	// Counts are written in batches: wait until the resume, the last
	// write, is in.
	kees := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer kees-secret-"))
	var in *handoffv1.JourneyTypeInsight
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := types.GetJourneyTypeInsight(kees, &handoffv1.GetJourneyTypeInsightRequest{Name: "journeyTypes/car-insurance-quote/insight"})
		require.NoError(c, err)
		require.Equal(c, int64(1), got.GetStarted())
		require.Equal(c, int64(1), got.GetTimeToResume().GetCount())
		in = got
	}, 5*time.Second, 50*time.Millisecond)

	as := func(token string) map[string]string {
		return map[string]string{"HANDOFFCTL_ADDR": addr, "HANDOFFCTL_TOKEN": token}
	}
	// The range and the last final day as the server has them, so that
	// the test does not depend on the day it runs.
	summary := regexp.QuoteMeta("car-insurance-quote  " + in.GetFrom() + " to " + in.GetTo() + "  started 1  completed 0  " +
		"time to resume p50 1s p90 1s  reminders sent 0, brought back 0  expired final through " + in.GetExpiredThrough())
	for _, tc := range []struct {
		name     string
		token    string
		args     []string
		wantCode int
		want     []string // patterns, each matching a line of stdout (or stderr when the run fails)
		check    func(t *testing.T, stdout string)
	}{
		{
			name: "the_tables_show_the_funnel_the_entry_channel_and_the_flow", token: "kees-secret-",
			args: []string{"insight", "car-insurance-quote"},
			want: []string{
				"^" + summary + "$",
				`^STEP\s+REACHED\s+LEFT\s+STOPPED\s+DROP-OFF\s+RESUMED\s+RESUME RATE\s+TTR P50\s+TTR P90\s+EXPIRED\s+UNRESUMED$`,
				`^vehicle\s+1\s+1\s+0\s+0\.0%\s+0\s+0\.0%\s+-\s+-\s+0\s+0$`,
				`^driver\s+1\s+0\s+1\s+100\.0%\s+1\s+100\.0%\s+1s\s+1s\s+0\s+0$`,
				`^cover \*\s+0\s+0\s+0\s+-\s+0\s+-\s+-\s+-\s+0\s+0$`,
				`^confirm\s+0\s+0\s+0\s+-\s+0\s+-\s+-\s+-\s+0\s+0$`,
				`^ENTRY CHANNEL\s+STARTED\s+COMPLETED\s+COMPLETION$`,
				`^web\s+1\s+0\s+0\.0%$`,
				`^STEP\s+FROM → TO\s+SWITCHES\s+RESUMES$`,
				`^driver\s+web → phone\s+1\s+1$`,
			},
		},
		{
			name: "a_range_before_the_journey_counts_nothing_and_its_expiries_are_final", token: "kees-secret-",
			args: []string{"insight", "journeyTypes/car-insurance-quote", "--from", "2020-01-01", "--to", "2020-01-31"},
			want: []string{
				`^car-insurance-quote  2020-01-01 to 2020-01-31  started 0  completed 0  time to resume p50 - p90 -  reminders sent 0, brought back 0  expired final through 2020-01-31$`,
				`^vehicle\s+0\s+0\s+0\s+-\s+0\s+-\s+-\s+-\s+0\s+0$`,
			},
		},
		{
			name: "json_is_the_insight_message_once", token: "kees-secret-",
			args: []string{"insight", "car-insurance-quote", "-o", "json"},
			check: func(t *testing.T, stdout string) {
				var in handoffv1.JourneyTypeInsight
				require.NoError(t, protojson.Unmarshal([]byte(stdout), &in), stdout)
				require.Equal(t, "journeyTypes/car-insurance-quote/insight", in.GetName())
				require.Equal(t, int64(1), in.GetSteps()[1].GetResumed())
			},
		},
		{
			name: "a_day_that_is_not_one_is_a_usage_error", token: "kees-secret-",
			args: []string{"insight", "car-insurance-quote", "--from", "2025-13-01"}, wantCode: 2,
			want: []string{`^handoffctl: --from "2025-13-01": want a day, YYYY-MM-DD \(UTC\)$`},
		},
		{
			name: "a_type_with_a_version_is_a_usage_error", token: "kees-secret-",
			args: []string{"insight", "car-insurance-quote@1"}, wantCode: 2,
			want: []string{`without @VERSION`},
		},
		{
			name: "a_range_the_server_refuses_fails_the_call", token: "kees-secret-",
			args: []string{"insight", "car-insurance-quote", "--from", "2025-02-01", "--to", "2025-01-01"}, wantCode: 1,
			want: []string{`^handoffctl: InvalidArgument: from: from 2025-02-01 is after to 2025-01-01$`, `^  from: .* \(INVALID_RANGE\)$`},
		},
		{
			name: "an_agent_may_not_read_insight", token: "alice-secret",
			args: []string{"insight", "car-insurance-quote"}, wantCode: 1,
			want: []string{`^handoffctl: PermissionDenied: role agent may not call GetJourneyTypeInsight$`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := handoffctl(t, as(tc.token), tc.args...)
			require.Equal(t, tc.wantCode, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			out := r.stdout
			if tc.wantCode != 0 {
				out = r.stderr
			}
			for _, want := range tc.want {
				require.Regexp(t, regexp.MustCompile("(?m)"+want), out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}
