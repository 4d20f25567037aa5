package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

// TestTheRunbookRunsAsWritten runs every sh block of docs/operations.md,
// in order, in one bash, against a handoffd built from this tree on a real
// Redis, with answers sealed by the key the runbook rotates away from.
func TestTheRunbookRunsAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the runbook needs %s (apt-get install -y curl jq redis-server)", tool)
		}
	}
	runbook, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	script := shBlocks(t, string(runbook))

	r := testutil.StartRedis(t)
	work := t.TempDir()
	const adminToken, websiteToken = "ops-admin-secret", "ops-website-secret"
	tokens := filepath.Join(work, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte(fmt.Sprintf("tokens:\n  - {token: %q, principal: root, role: admin}\n  - {token: %q, principal: shop, role: service}\n",
		adminToken, websiteToken)), 0o600))
	keys := filepath.Join(work, "keys.txt")
	require.NoError(t, os.WriteFile(keys, []byte("k1 "+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n"), 0o600))
	identityKeys := filepath.Join(work, "identity-keys.txt")
	require.NoError(t, os.WriteFile(identityKeys, []byte("k1 "+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))+"\n"), 0o600))

	bin := buildHandoffd(t)
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := exec.CommandContext(ctx, bin)
	srv.Env = append(os.Environ(), "HANDOFF_GRPC_ADDR="+grpcAddr, "HANDOFF_HTTP_ADDR="+httpAddr,
		"HANDOFF_REDIS_URL="+r.URL(), "HANDOFF_TOKENS_FILE="+tokens, "HANDOFF_ENCRYPTION_KEYS_FILE="+keys,
		"HANDOFF_IDENTITY_KEYS_FILE="+identityKeys)
	var logs testutil.SyncBuffer
	srv.Stderr = &logs
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		cancel()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("handoffd logs:\n%s", logs.String())
		}
	})
	waitForPort(t, httpAddr)
	base := "http://" + httpAddr

	// A customer with a journey of sealed answers, for the runbook to find
	// and erase.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/customers/c-42/journeys",
		strings.NewReader(`{"journeyType": "car-insurance-quote", "step": "vehicle", "data": {"vehicle": {"plate": "AB-123-C"}}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+websiteToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	run := exec.CommandContext(t.Context(), "bash", "-c", "set -euo pipefail\n"+script)
	run.Dir = work
	run.Env = append(os.Environ(), "HANDOFF="+base, "ADMIN_TOKEN="+adminToken, "REDIS_URL="+r.URL(), "HANDOFFD_PID="+strconv.Itoa(srv.Process.Pid))
	got, err := run.CombinedOutput()
	require.NoError(t, err, "the runbook failed:\n%s", got)
	text := string(got)

	for _, want := range []string{"ok\n", "ready\n", "PONG\n", "\nhandoff_watches_open 0\n", `grpc_code="Unavailable",grpc_method="UpdateJourney"`} {
		require.Contains(t, text, want)
	}
	require.Regexp(t, regexp.MustCompile(`(?mi)^x-request-id: ops-check-1\r?$`), text)
	keysNow, err := os.ReadFile(keys)
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`\nk2 [A-Za-z0-9+/]{43}=\n$`), string(keysNow), "the rotation added a key")
	require.Regexp(t, regexp.MustCompile(`(?m)^[1-9][0-9]*\n`), text, "values sealed with k1 were counted")
	identityKeysNow, err := os.ReadFile(identityKeys)
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^k2 [A-Za-z0-9+/]{43}=\nk1 `), string(identityKeysNow), "the identity key rotation put a new key first")
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"msg":"identity keys loaded","current_key":"k2"`) }, 5*time.Second, 50*time.Millisecond,
		"handoffd reloaded the identity keys on SIGHUP")
	require.True(t, strings.HasSuffix(text, "0\n0\n"), "after the erasure, no journey and no key of the customer:\n%s", text)
}
