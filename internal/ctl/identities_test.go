package ctl_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestHandoffctlFindsACallerByPhone(t *testing.T) {
	root := testutil.RepoRoot(t)
	addr := startHandoffd(t, func(c *config.Config) {
		c.JourneyTypesDir = filepath.Join(root, "examples", "journey-types")
		c.IdentityKeysFile = filepath.Join(root, "examples", "identity-keys.dev.txt")
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	data, err := structpb.NewStruct(map[string]any{"driver": map[string]any{"birthYear": 1988}})
	require.NoError(t, err)
	j, err := handoffv1.NewJourneyServiceClient(conn).CreateJourney(
		metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer web-secret"),
		&handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "driver", Data: data}})
	require.NoError(t, err)
	as := func(token string) map[string]string {
		return map[string]string{"HANDOFFCTL_ADDR": addr, "HANDOFFCTL_TOKEN": token}
	}
	ok := func(t *testing.T, r run) string {
		t.Helper()
		require.Zero(t, r.code, "stderr: %s", r.stderr)
		return r.stdout
	}

	var link string
	t.Run("identities_link_and_list_show_kinds_never_the_number", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("web-secret"), "identities", "link", "c-42", "+31 6 1234 5678"))
		m := regexp.MustCompile(`(?m)^(customers/c-42/identityLinks/\S+)\s+phone\s`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		link = m[1]
		out = ok(t, handoffctl(t, as("web-secret"), "identities", "list", "c-42"))
		require.Contains(t, out, link)
		require.NotContains(t, out, "612345678")
	})
	var lookup string
	t.Run("lookup_lists_type_step_and_what_to_ask", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "lookup", "+31612345678", "--channel", "phone"))
		m := regexp.MustCompile(`(?m)^(identityLookups/\S+)\s+1\s+car-insurance-quote\s+driver\s.*driver\.birthYear \(Year of birth\)$`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		lookup = m[1]
	})
	t.Run("verify_with_a_wrong_answer_is_refused", func(t *testing.T) {
		r := handoffctl(t, as("alice-secret"), "verify", lookup, "1", "1987", "--channel", "phone")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "FailedPrecondition: the answer does not match")
	})
	t.Run("verify_with_the_right_answer_opens_the_journey", func(t *testing.T) {
		out := ok(t, handoffctl(t, as("alice-secret"), "verify", lookup, "1", "1988", "--channel", "phone", "-o", "json"))
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		require.Equal(t, j.GetName(), got["name"])
		require.Equal(t, "alice", got["assignee"])
	})
	t.Run("unlink_removes_the_link", func(t *testing.T) {
		ok(t, handoffctl(t, as("web-secret"), "identities", "unlink", link))
		out := ok(t, handoffctl(t, as("alice-secret"), "lookup", "+31612345678"))
		require.Contains(t, out, "no open journey is linked to that identity")
	})
}
