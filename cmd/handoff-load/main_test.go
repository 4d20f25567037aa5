package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// TestMain lets the test binary play the helper processes the driver
// re-executes itself as (the empty gRPC server).
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestTheDriverRunsEndToEndOnTinyNumbers is make bench in miniature (about
// 15 s): every phase runs without an error against a real redis-server and
// a freshly built handoffd, no update of the one-journey phase is lost, the
// memory and growth figures are there for each scale, the soak and the
// profile produce their sections, and the report lands in an existing
// document without touching its hand-written text.
func TestTheDriverRunsEndToEndOnTinyNumbers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "benchmarks.md")
	const method, analysis = "How the figures are made, by hand.", "Why the targets are missed, by hand."
	require.NoError(t, os.WriteFile(out, []byte("# Benchmarks\n\n"+method+"\n\n"+
		loadgen.Section("results", "stale figures")+"\n"+analysis+"\n"), 0o644))
	opts, err := parseFlags([]string{
		"-duration", "300ms", "-warmup", "100ms", "-journeys", "300", "-scale", "200",
		"-callers", "4", "-max-in-flight", "8", "-rate", "200", "-conns", "2", "-hot-writers", "4", "-rounds", "2",
		"-memory-sample", "20", "-soak", "1s", "-soak-every", "200ms", "-ring", "256",
		"-cpuprofile", filepath.Join(dir, "cpu.pprof"), "-out", out,
	}, io.Discard)
	require.NoError(t, err)

	var stdout, progress bytes.Buffer
	rep, err := run(t.Context(), opts, &stdout, &progress)
	require.NoError(t, err, "progress:\n%s", progress.String())

	require.Len(t, rep.phases, 9+2*7, "three floors at each load, then seven phases over each protocol")
	for _, p := range rep.phases {
		require.Positive(t, p.res.OK, "%s %s %s", p.group, p.what, p.load)
		require.Zero(t, p.res.Errors, "%s %s %s: %v", p.group, p.what, p.load, p.res.FirstError)
		require.Positive(t, p.res.Latency.P50, "%s %s %s", p.group, p.what, p.load)
	}
	require.NotNil(t, rep.hot)
	require.Positive(t, rep.hot.acked)
	require.Empty(t, rep.hot.lost)
	for _, what := range []string{whatEmpty, whatScript, whatRelay} {
		p := rep.find(groupFloor, what, load{callers: 4})
		require.NotNil(t, p)
		require.Positive(t, p.perRequest(procDriver), "%s: the driver's CPU per call", what)
	}
	relay := rep.find(groupFloor, whatRelay, load{callers: 4})
	require.Positive(t, relay.perRequest(procEmptyServer), "the relay runs in the floor's server")
	require.Positive(t, relay.perRequest(procRedis), "the relay runs the save script")
	save := rep.find(groupGRPC, whatSave, load{callers: 4})
	require.NotNil(t, save)
	require.Positive(t, save.perRequest(procHandoffd)+save.perRequest(procRedis), "CPU per save, handoffd + Redis")
	require.Len(t, rep.scale, 2)
	for i, want := range []int{200, 300} {
		m := rep.scale[i].mem
		require.Equal(t, want, m.journeys)
		require.Equal(t, want, m.savedCount, "every journey saved once: 20 × the 20 sampled is more than there are")
		for _, st := range []journeyMemory{m.preloaded, m.saved} {
			require.Positive(t, st.hash)
			require.Positive(t, st.timeline)
			require.InDelta(t, 1024, st.rawJSON, 200)
			require.Greater(t, st.used, st.hash, "used_memory covers the hash and more")
		}
		require.Zero(t, m.preloaded.changeLog, "a create is announced, not logged")
		require.Positive(t, m.saved.changeLog, "a save is logged")
		require.Greater(t, m.saved.timeline, m.preloaded.timeline, "a save adds a touchpoint")
		require.Positive(t, rep.scale[i].mix.res.OK)
	}
	require.NotNil(t, rep.soak)
	require.GreaterOrEqual(t, len(rep.soak.heap), 4)
	require.NotNil(t, rep.profile)
	require.Empty(t, rep.profile.toolNote)
	require.Contains(t, rep.profile.flat, "flat%")

	doc, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, s := range []string{method, analysis, "#### Targets", "(the relay)", "CPU per save of the relay", "the relay adds to the save script", "the relay's p50", "#### CPU per request", "#### Memory per journey", "<!-- handoff-load:soak -->", "<!-- handoff-load:profile -->"} {
		require.Contains(t, string(doc), s)
	}
	require.NotContains(t, string(doc), "stale figures")
	targets := 0
	for line := range strings.Lines(string(doc)) {
		if strings.Contains(line, "**pass**") || strings.Contains(line, "**miss**") || strings.Contains(line, "inconclusive") {
			targets++
		}
	}
	require.Equal(t, 11, targets, "every target row has a verdict")
	require.Contains(t, stdout.String(), "#### Every phase")
}

// TestTypedJourneysAreCountedByInsight is make bench-insight's run with
// insight on, in miniature: handoffd loads bench-quote.yaml, every phase
// runs without an error on journeys of that type (so handoffd accepted
// every save's answers and step), handoffd B's saves and gets run beside
// the first's, and insight counted.
func TestTypedJourneysAreCountedByInsight(t *testing.T) {
	opts, err := parseFlags([]string{
		"-typed-journeys", "-duration", "300ms", "-warmup", "100ms", "-journeys", "300", "-scale", "",
		"-callers", "4", "-max-in-flight", "8", "-rate", "200", "-conns", "2", "-hot-writers", "4", "-rounds", "1",
		"-memory-sample", "20", "-ring", "256", "-handoffd-flag=--insight-flush=200ms", "-versus-flag=--insight=false",
	}, io.Discard)
	require.NoError(t, err)
	var progress bytes.Buffer
	rep, err := run(t.Context(), opts, io.Discard, &progress)
	require.NoError(t, err, "progress:\n%s", progress.String())
	require.Nil(t, quote, "the run leaves no type behind")
	for _, p := range rep.phases {
		require.Positive(t, p.res.OK, "%s %s %s", p.group, p.what, p.load)
		require.Zero(t, p.res.Errors, "%s %s %s: %v", p.group, p.what, p.load, p.res.FirstError)
	}
	for _, what := range []string{whatSave, whatGet} {
		b := rep.find(groupGRPCB, what, load{callers: 4})
		require.NotNil(t, b, "handoffd B's %s", what)
		require.Positive(t, b.perRequest(procHandoffd), "handoffd B's CPU")
	}
	require.Len(t, rep.phases, 6+2*7+2, "floors (no relay for typed journeys), seven phases over each protocol, and B's two")
	require.NotNil(t, rep.insight)
	require.Positive(t, rep.insight.keys, "insight's day hashes")
	require.Positive(t, rep.insight.reached, "journeys that reached a step")
	require.Positive(t, rep.insight.resumed, "codes redeemed")
	require.Contains(t, progress.String(), "insight counted: ")
}

func TestBadFlagsAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-mix", "save=70,browse=30"},
		{"-scale", "10,x"},
		{"-duration", "0s"},
		{"-callers", "0"},
		{"-soak", "10s", "-soak-every", "5s"},
		{"-soak-only"},
		{"-journeys", "1000", "-callers", "64", "-max-in-flight", "256"},
		{"-rounds", "0"},
		{"extra"},
	} {
		_, err := parseFlags(args, io.Discard)
		require.Error(t, err, "%q", args)
	}
	o, err := parseFlags([]string{"-journeys", "500", "-callers", "4", "-max-in-flight", "8", "-scale", "1000, 100,500"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{100, 500, 1000}, o.scale, "sorted, with the preload size once")
}

// TestSoakOnlyRewritesOnlyTheSoakSection: the 10-minute soak runs apart
// from make bench, so its run must leave the other generated sections as
// they are.
func TestSoakOnlyRewritesOnlyTheSoakSection(t *testing.T) {
	out := filepath.Join(t.TempDir(), "benchmarks.md")
	require.NoError(t, os.WriteFile(out, []byte("# Benchmarks\n\n"+
		loadgen.Section("results", "results of make bench")+"\n"+loadgen.Section("soak", "stale soak")), 0o644))
	opts, err := parseFlags([]string{
		"-journeys", "50", "-warmup", "100ms", "-rate", "100", "-callers", "4", "-max-in-flight", "4",
		"-soak", "1s", "-soak-every", "200ms", "-soak-only", "-ring", "64", "-out", out,
	}, io.Discard)
	require.NoError(t, err)
	var progress bytes.Buffer
	rep, err := run(t.Context(), opts, io.Discard, &progress)
	require.NoError(t, err, "progress:\n%s", progress.String())
	require.Empty(t, rep.phases)
	require.NotNil(t, rep.soak)
	require.Zero(t, rep.soak.res.Errors, "%v", rep.soak.res.FirstError)
	doc, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(doc), "results of make bench")
	require.NotContains(t, string(doc), "stale soak")
	require.Contains(t, string(doc), "| after | heap in use | goroutines | RSS |")
}
