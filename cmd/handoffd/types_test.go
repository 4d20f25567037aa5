package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// TestSIGHUPReloadsTheJourneyTypesDirectoryWholeOrNotAtAll runs the real
// binary with --journey-types-dir, changes a definition and sends SIGHUP:
// the change becomes the type's next version. A broken file then refuses
// the whole directory: the log says so and the types stay as they were.
func TestSIGHUPReloadsTheJourneyTypesDirectoryWholeOrNotAtAll(t *testing.T) {
	example, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "examples", "journey-types", "home-insurance-claim.yaml"))
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	write("claim.yaml", string(example))
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("tokens:\n  - {token: \"c42-secret\", principal: \"c-42\", role: customer}\n"), 0o600))

	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(buildHandoffd(t), "--journey-types-dir", dir)
	cmd.Env = append(os.Environ(), "HANDOFF_GRPC_ADDR="+grpcAddr, "HANDOFF_HTTP_ADDR="+httpAddr, "HANDOFF_TOKENS_FILE="+tokens)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var mu sync.Mutex
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	logged := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), s)
	}
	waitForPort(t, grpcAddr)
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	types := handoffv1.NewJourneyTypeServiceClient(conn)
	latest := func() *handoffv1.JourneyType {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer c42-secret")
		got, err := types.GetJourneyType(ctx, &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/home-insurance-claim"})
		require.NoError(t, err)
		return got
	}
	require.Equal(t, int64(1), latest().GetVersion())

	write("claim.yaml", strings.Replace(string(example), "Home insurance claim", "Home claim", 1))
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return latest().GetVersion() == 2 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "Home claim", latest().GetTitle()["en"])

	write("claim.yaml", strings.Replace(string(example), "Home insurance claim", "Third title", 1))
	write("broken.yaml", "name: journeyTypes/broken\nsteps: []\n")
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return logged("journey types not reloaded") }, 10*time.Second, 50*time.Millisecond)
	require.True(t, logged("broken.yaml"), "the log names the file that refused the load")
	require.Equal(t, int64(2), latest().GetVersion(), "half a directory was loaded")
	require.Nil(t, cmd.ProcessState, "SIGHUP stopped handoffd")
}
