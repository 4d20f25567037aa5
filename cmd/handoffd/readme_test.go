package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTheREADMEWalkThroughRunsAsWritten builds handoffd, starts it with no
// configuration (memory store, DEV MODE tokens), pastes the export lines it
// prints, and runs every sh block of the README's walk-through in one bash,
// with only the ports changed to free ones.
func TestTheREADMEWalkThroughRunsAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walk-through needs %s: apt-get install -y %s", tool, tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	script := walkThrough(t, string(readme))

	bin := buildHandoffd(t)
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// As the README starts it, from the repository's root.
	srv := exec.CommandContext(ctx, bin, "--journey-types-dir", "examples/journey-types", "--identity-keys-file", "examples/identity-keys.dev.txt")
	srv.Dir = "../.."
	srv.Env = append(os.Environ(), "HANDOFF_GRPC_ADDR="+grpcAddr, "HANDOFF_HTTP_ADDR="+httpAddr)
	stderr, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { cancel(); _ = srv.Wait() })

	// Collect the banner's export lines, then keep draining the logs.
	exports := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "export HANDOFF_DEV_") {
				lines = append(lines, line)
				if len(lines) == 5 { // one per role: website, agent, customer, admin, analyst
					exports <- lines
				}
			}
		}
	}()
	var env []string
	select {
	case env = <-exports:
	case <-time.After(30 * time.Second):
		t.Fatal("handoffd printed no DEV MODE export lines")
	}
	waitForPort(t, httpAddr)

	script = strings.NewReplacer("localhost:8080", httpAddr, "localhost:9090", grpcAddr).Replace(script)
	full := strings.Join(env, "\n") + "\nset -euo pipefail\n" + script
	run := exec.CommandContext(t.Context(), "bash", "-c", full)
	run.Dir = "../.."
	got, err := run.CombinedOutput()
	require.NoError(t, err, "walk-through failed:\n%s", got)

	text := string(got)
	for _, want := range []string{
		`"assignee": "dev-agent"`,
		`"plate": "AB-123-C"`,
		`"step": "confirm"`,
		"TOUCHPOINT_KIND_RESUMED  CHANNEL_PHONE  dev-agent  cover",
		"TOUCHPOINT_KIND_PROGRESS_SAVED  CHANNEL_PHONE  dev-agent  confirm",
		`"name": "customers/c-42/journeys/anna-quote"`, // from grpcurl
		"journey type car-insurance-quote@1 does not allow these answers: journey.data.cover.level: must be one of the declared options",
		"journeyTypes/home-insurance-claim v1: incident → contact → payment → review",
		`{"iban":"•••• 4300","maskedAnswers":["payment.iban"],"changedBy":"ROLE_CUSTOMER"}`,
		"\nNL91ABNA0417164300\n",
		`TOUCHPOINT_KIND_REVEALED ["payment.iban"] by dev-agent: Anna asked to check the payout account`,
		`{"kind":"IDENTITY_KIND_PHONE",`,
		`"journeyType":"car-insurance-quote","step":"confirm","checkAnswer":"driver.birthYear"}`,
		"\nthe answer does not match\n",
		`{"step":"confirm","assignee":"dev-agent"}`,
	} {
		require.Contains(t, text, want)
	}
	require.Regexp(t, regexp.MustCompile(`Anna reads out: [0-9A-Z]{4}-[0-9A-Z]{4}`), text)
	// From handoffctl.
	require.Regexp(t, regexp.MustCompile(`(?m)^data\.vehicle\.plate\s+"AB-123-C"$`), text)
	require.Regexp(t, regexp.MustCompile(`(?m)^data\.cover\.excess\s+250$`), text)
	require.Regexp(t, regexp.MustCompile(`(?m)^\d+\s+confirm\s+dev-agent\s+\(the journey as it is\)`), text)
}

// walkThrough returns the sh blocks of the README's walk-through section.
func walkThrough(t *testing.T, readme string) string {
	start := strings.Index(readme, "## Walk-through")
	require.GreaterOrEqual(t, start, 0, "README has no walk-through section")
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return shBlocks(t, section)
}

// shBlocks joins the sh blocks of a Markdown text, in order.
func shBlocks(t *testing.T, markdown string) string {
	var blocks []string
	for _, part := range strings.Split(markdown, "```sh\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		require.True(t, ok, "unclosed code block")
		blocks = append(blocks, block)
	}
	require.NotEmpty(t, blocks)
	return strings.Join(blocks, "\n")
}

// buildHandoffd builds this tree's handoffd into a temporary directory.
func buildHandoffd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "handoffd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func waitForPort(t *testing.T, addr string) {
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 30*time.Second, 50*time.Millisecond)
}
