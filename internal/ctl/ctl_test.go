package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/ctl"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

const tokensYAML = `tokens:
  - {token: "web-secret", principal: "shop-website", role: service}
  - {token: "alice-secret", principal: "alice", role: agent}
  - {token: "bob-secret-x", principal: "bob", role: agent}
  - {token: "admin-secret", principal: "root", role: admin}
`

// startHandoffd runs handoffd (memory store) on free loopback ports until
// the test ends, and returns its gRPC address.
func startHandoffd(t *testing.T, change ...func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
	for _, c := range change {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return a.GRPCAddr()
}

// run is one handoffctl invocation with the given environment.
type run struct {
	code           int
	stdout, stderr string
}

func handoffctl(t *testing.T, env map[string]string, args ...string) run {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	code := ctl.Main(ctx, args, &out, &errOut, func(k string) string { return env[k] })
	return run{code, out.String(), errOut.String()}
}

func TestHandoffctlRunsTheHandoffStory(t *testing.T) {
	addr := startHandoffd(t)
	// The website starts Anna's quote through the API itself.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	j, err := handoffv1.NewJourneyServiceClient(conn).CreateJourney(
		metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer web-secret"),
		&handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"}})
	require.NoError(t, err)
	name := j.GetName()
	as := func(token string) map[string]string {
		return map[string]string{"HANDOFFCTL_ADDR": addr, "HANDOFFCTL_TOKEN": token}
	}
	ok := func(t *testing.T, r run) string {
		t.Helper()
		require.Zero(t, r.code, "stderr: %s", r.stderr)
		return r.stdout
	}

	t.Run("save_sets_answers_by_path_as_json_or_text_and_the_step", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("web-secret"), "save", name, "--step", "cover",
			"--set", "vehicle.plate=AB-123-C", "--set", "driver.birthYear=1988", "-o", "json"))
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		require.Equal(t, "cover", got["step"])
		require.Equal(t, map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}, "driver": map[string]any{"birthYear": 1988.0}}, got["data"])
	})
	t.Run("get_shows_every_answer_by_its_path_in_a_table", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "get", name))
		require.Regexp(t, `(?m)^STEP\s+cover$`, out)
		require.Regexp(t, `(?m)^data\.vehicle\.plate\s+"AB-123-C"$`, out)
		require.Regexp(t, `(?m)^data\.driver\.birthYear\s+1988$`, out)
	})
	t.Run("a_save_with_a_stale_etag_fails_with_aborted_and_exit_status_1", func(t *testing.T) {
		r := handoffctl(t, as("web-secret"), "save", name, "--set", "vehicle.plate=XY-999-Z", "--etag", j.GetEtag())
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "Aborted: ")
	})
	var code string
	t.Run("handoff_makes_a_code_and_redeem_opens_the_journey_for_the_agent", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("web-secret"), "handoff", name))
		m := regexp.MustCompile(`(?m)^([0-9A-Z]{4}-[0-9A-Z]{4})\s`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		code = m[1]
		out = ok(t, handoffctl(t, as("alice-secret"), "redeem", code, "--channel", "phone"))
		require.Regexp(t, `(?m)^HOLDER\s+alice$`, out)
	})
	t.Run("another_agent's_claim_is_refused", func(t *testing.T) {
		r := handoffctl(t, as("bob-secret-x"), "claim", name)
		require.Equal(t, 1, r.code, r.stdout)
		require.Contains(t, r.stderr, "alice")
	})
	t.Run("transfer_and_release_move_the_case", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "transfer", name, "--to", "bob", "--to-channel", "chat", "--note", "prefers chat"))
		require.Regexp(t, `(?m)^HOLDER\s+bob$`, out)
		out = ok(t, handoffctl(t, as("bob-secret-x"), "release", name, "--note", "done for now"))
		require.Regexp(t, `(?m)^HOLDER\s+-$`, out)
	})
	t.Run("touchpoints_show_the_timeline_oldest_first", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "touchpoints", name))
		var kinds []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			kinds = append(kinds, strings.Fields(line)[2])
		}
		require.Subset(t, kinds, []string{"started", "progress_saved", "resumed", "transferred", "released"})
		require.Equal(t, "started", kinds[0])
	})
	t.Run("list_shows_the_customer's_journeys", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "list", "c-42"))
		require.Contains(t, out, name)
	})
	t.Run("watch_after_a_revision_prints_exactly_the_changes_after_it", func(t *testing.T) {
		now, err := handoffv1.NewJourneyServiceClient(conn).GetJourney(
			metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer web-secret"), &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		done := make(chan run, 1)
		go func() {
			done <- handoffctl(t, as("web-secret"), "watch", name, "--after", "2", "-o", "json", "--count", "3")
		}()
		r := <-done
		out := ok(t, r)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3)
		for i, line := range lines {
			var c struct {
				Revision string `json:"revision"`
				Snapshot bool   `json:"snapshot"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &c), line)
			require.Equal(t, i+3, mustAtoi(t, c.Revision), "line %d", i)
			require.False(t, c.Snapshot)
		}
		require.Greater(t, now.GetRevision(), int64(5))
	})
	t.Run("watch_starts_with_the_journey_as_it_is", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "watch", name, "--count", "1"))
		require.Regexp(t, `(?m)^REVISION\s+STEP\s+HOLDER\s+CHANGED`, out)
		require.Contains(t, out, "(the journey as it is)")
	})
	t.Run("watch_prints_a_save_made_while_it_watches_with_the_step_it_leaves", func(t *testing.T) {
		done := make(chan run, 1)
		go func() { done <- handoffctl(t, as("web-secret"), "watch", name, "--count", "2") }()
		// Saves until the watch has printed one after its snapshot (the
		// first may land before the watch starts).
		var out string
	saving:
		for n := 0; ; n++ {
			ok(t, handoffctl(t, as("web-secret"), "save", name, "--set", "cover.excess="+strconv.Itoa(n)))
			select {
			case r := <-done:
				out = ok(t, r)
				break saving
			case <-time.After(100 * time.Millisecond):
			}
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		require.Contains(t, lines[1], "(the journey as it is)")
		require.Regexp(t, `^\d+\s+cover\s+.*data\.cover\.excess.*progress_saved$`, lines[2], "the step comes from the journey the change applies to")
	})
	t.Run("an_admin_erases_the_customer", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("admin-secret"), "erase", "c-42"))
		require.Regexp(t, `(?m)^1$`, out)
		r := handoffctl(t, as("alice-secret"), "get", name)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "NotFound: ")
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestHandoffctlSettings(t *testing.T) {
	addr := startHandoffd(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte("addr: "+addr+"\ntoken: admin-secret\noutput: json\n"), 0o600))

	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     string // in stdout, or in stderr when the run fails
	}{
		{name: "the_config_file_gives_the_address_the_token_and_json_output", args: []string{"--config", config, "list", "c-1"}, want: "{"},
		{name: "the_environment_overrides_the_config_file", env: map[string]string{"HANDOFFCTL_OUTPUT": "table"}, args: []string{"--config", config, "list", "c-1"}, want: "NAME"},
		{name: "a_flag_overrides_the_environment", env: map[string]string{"HANDOFFCTL_TOKEN": "wrong"}, args: []string{"--config", config, "--token", "admin-secret", "list", "c-1"}, want: "{"},
		{name: "a_wrong_token_fails_the_call_with_exit_status_1", args: []string{"--config", config, "--token", "wrong", "list", "c-1"}, wantCode: 1, want: "Unauthenticated: "},
		{name: "no_token_anywhere_is_a_usage_error", env: map[string]string{"HANDOFFCTL_ADDR": addr}, args: []string{"list", "c-1"}, wantCode: 2, want: "no token"},
		{name: "an_unknown_output_is_a_usage_error", args: []string{"--config", config, "-o", "yaml", "list", "c-1"}, wantCode: 2, want: "--output"},
		{name: "a_missing_argument_is_a_usage_error", args: []string{"--config", config, "get"}, wantCode: 2, want: "want JOURNEY"},
		{name: "an_unknown_flag_is_a_usage_error", args: []string{"--config", config, "get", "--colour", "x"}, wantCode: 2, want: "unknown flag"},
		{name: "a_save_with_nothing_to_save_is_a_usage_error", args: []string{"--config", config, "save", "customers/c-1/journeys/j"}, wantCode: 2, want: "nothing to save"},
		{name: "a_bad_field_names_it_with_its_reason", args: []string{"--config", config, "get", "customers/c 1/journeys/j"}, wantCode: 1, want: "InvalidArgument: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := handoffctl(t, tc.env, tc.args...)
			require.Equal(t, tc.wantCode, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			if tc.wantCode == 0 {
				require.Contains(t, r.stdout, tc.want)
			} else {
				require.Contains(t, r.stderr, tc.want)
			}
		})
	}
}

func TestHandoffctlAppliesJourneyTypesAndRevealsAnAnswer(t *testing.T) {
	addr := startHandoffd(t)
	as := func(token string) map[string]string {
		return map[string]string{"HANDOFFCTL_ADDR": addr, "HANDOFFCTL_TOKEN": token}
	}
	example := filepath.Join(testutil.RepoRoot(t), "examples", "journey-types", "home-insurance-claim.yaml")

	r := handoffctl(t, as("alice-secret"), "types", "apply", example)
	require.Equal(t, 1, r.code, "an agent may not declare types")
	require.Contains(t, r.stderr, "PermissionDenied")

	r = handoffctl(t, as("admin-secret"), "types", "apply", example)
	require.Zero(t, r.code, r.stderr)
	require.Regexp(t, `(?m)^journeyTypes/home-insurance-claim\s+1\s+created$`, r.stdout)
	r = handoffctl(t, as("admin-secret"), "types", "apply", example)
	require.Zero(t, r.code, r.stderr)
	require.Regexp(t, `(?m)^journeyTypes/home-insurance-claim\s+1\s+unchanged$`, r.stdout)

	text, err := os.ReadFile(example)
	require.NoError(t, err)
	changed := filepath.Join(t.TempDir(), "claim.yaml")
	require.NoError(t, os.WriteFile(changed, []byte(strings.Replace(string(text), "Home insurance claim", "Home claim", 1)), 0o600))
	r = handoffctl(t, as("admin-secret"), "types", "apply", changed)
	require.Zero(t, r.code, r.stderr)
	require.Regexp(t, `(?m)^journeyTypes/home-insurance-claim\s+2\s+new version$`, r.stdout)

	broken := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("name: journeyTypes/broken\nsteps: []\n"), 0o600))
	r = handoffctl(t, as("admin-secret"), "types", "apply", broken)
	require.Equal(t, 2, r.code, "a file that does not compile is a wrong command line: nothing is sent")
	require.Contains(t, r.stderr, "broken.yaml")

	r = handoffctl(t, as("alice-secret"), "types", "list")
	require.Zero(t, r.code, r.stderr)
	require.Regexp(t, `(?m)^journeyTypes/home-insurance-claim\s+2\s+incident → contact → payment → review$`, r.stdout)
	r = handoffctl(t, as("alice-secret"), "types", "get", "home-insurance-claim@1", "-o", "json")
	require.Zero(t, r.code, r.stderr)
	require.Contains(t, r.stdout, `"Home insurance claim"`)

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	data, err := structpb.NewStruct(map[string]any{"payment": map[string]any{"iban": "NL91ABNA0417164300"}})
	require.NoError(t, err)
	j, err := handoffv1.NewJourneyServiceClient(conn).CreateJourney(
		metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer web-secret"),
		&handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "home-insurance-claim", Data: data}})
	require.NoError(t, err)

	r = handoffctl(t, as("alice-secret"), "get", j.GetName())
	require.Zero(t, r.code, r.stderr)
	require.NotContains(t, r.stdout, "NL91ABNA0417164300")
	r = handoffctl(t, as("alice-secret"), "reveal", j.GetName(), "payment.iban")
	require.Equal(t, 2, r.code, "a reveal needs a reason")
	r = handoffctl(t, as("alice-secret"), "reveal", j.GetName(), "payment.iban", "--reason", "checking the payout account")
	require.Zero(t, r.code, r.stderr)
	require.Regexp(t, `(?m)^payment\.iban\s+"NL91ABNA0417164300"$`, r.stdout)
}
