package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// TestTwoProcessesOnOneRedisAreOneService runs two real handoffd processes
// on one real Redis: a save through A reaches a watcher on B, a claim on A
// blocks a claim on B, and SIGTERM ends B's watch with a reconnect status
// and the process cleanly.
func TestTwoProcessesOnOneRedisAreOneService(t *testing.T) {
	r := testutil.StartRedis(t)
	bin := buildHandoffd(t)
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte(`tokens:
  - {token: "web-secret", principal: "shop-website", role: service}
  - {token: "alice-secret", principal: "alice", role: agent, display_name: "Ravi"}
  - {token: "bob-secret-x", principal: "bob", role: agent}
`), 0o600))

	type proc struct {
		cmd *exec.Cmd
		api handoffv1.JourneyServiceClient
	}
	launch := func() proc {
		grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "HANDOFF_GRPC_ADDR="+grpcAddr, "HANDOFF_HTTP_ADDR="+httpAddr,
			"HANDOFF_REDIS_URL="+r.URL(), "HANDOFF_TOKENS_FILE="+tokens)
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		go func() { // drain the logs
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
			}
		}()
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitForPort(t, grpcAddr)
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		return proc{cmd: cmd, api: handoffv1.NewJourneyServiceClient(conn)}
	}
	as := func(token string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token)
	}
	a, b := launch(), launch()

	j, err := a.api.CreateJourney(as("web-secret"), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"},
	})
	require.NoError(t, err)
	watch, err := b.api.WatchJourney(as("alice-secret"), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	snap, err := watch.Recv()
	require.NoError(t, err)
	require.True(t, snap.GetSnapshot())

	data, _ := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}})
	_, err = a.api.UpdateJourney(as("web-secret"), &handoffv1.UpdateJourneyRequest{
		Journey: &handoffv1.Journey{Name: j.GetName(), Data: data}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.vehicle.plate"}},
	})
	require.NoError(t, err)
	c, err := watch.Recv()
	require.NoError(t, err)
	require.Equal(t, "AB-123-C", c.GetJourney().GetData().AsMap()["vehicle"].(map[string]any)["plate"])

	_, err = a.api.ClaimJourney(as("alice-secret"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	_, err = b.api.ClaimJourney(as("bob-secret-x"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "alice")
	c, err = watch.Recv()
	require.NoError(t, err)
	require.Equal(t, "Ravi", c.GetJourney().GetAssigneeDisplayName())

	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	_, err = watch.Recv()
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	require.True(t, strings.Contains(status.Convert(err).Message(), "after_revision="), "%v", err)
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "handoffd should exit 0 on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("handoffd did not exit after SIGTERM")
	}
}
