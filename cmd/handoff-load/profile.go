package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// profileResult is a CPU profile of handoffd under the gRPC save load, and
// pprof's reading of it.
type profileResult struct {
	res      loadgen.Result
	flat     string // go tool pprof -top
	cum      string // go tool pprof -top -cum
	toolNote string // why there is no reading, if there is none
}

// profile runs the gRPC save load once more while fetching a CPU profile
// from handoffd's --debug-addr, for the measured window of the phase. It is
// a phase of its own because profiling costs handoffd a little CPU.
func (d *driver) profile(ctx context.Context, n int) (profileResult, error) {
	path, err := filepath.Abs(d.opts.cpuprofile)
	if err != nil {
		return profileResult{}, err
	}
	var p profileResult
	if d.hd.debugAddr == "" {
		return p, fmt.Errorf("handoffd logged no --debug-addr, so no profile can be taken; see %s", d.hd.log)
	}
	seconds := max(1, int(d.opts.duration/time.Second))
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", d.hd.debugAddr, seconds)
	fetched := make(chan error, 1)
	go func() {
		select {
		case <-time.After(d.opts.warmup):
		case <-ctx.Done():
			fetched <- ctx.Err()
			return
		}
		fetched <- fetch(ctx, url, path, time.Duration(seconds)*time.Second+time.Minute)
	}()
	saves, err := d.grpc.saves(d.workloadJourneys(n), d.opts.ring)
	if err != nil {
		return p, err
	}
	ph := d.runPhase(ctx, groupGRPC, whatSave+" (profiled)", load{callers: d.opts.callers}, saves)
	p.res = ph.res
	if err := <-fetched; err != nil {
		return p, fmt.Errorf("CPU profile from %s: %w", url, err)
	}
	for _, v := range []struct {
		into *string
		args []string
	}{
		{&p.flat, []string{"tool", "pprof", "-top", "-nodecount=25", path}},
		{&p.cum, []string{"tool", "pprof", "-top", "-cum", "-nodecount=40", path}},
	} {
		out, err := exec.CommandContext(ctx, "go", v.args...).Output()
		if err != nil {
			p.toolNote = fmt.Sprintf("go %s: %v", strings.Join(v.args, " "), err)
			break
		}
		*v.into = pprofTable(string(out))
	}
	return p, nil
}

// fetch saves what GET url answers into path.
func fetch(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 500))
		return fmt.Errorf("%s: %s", res.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// pprofTable drops the lines of pprof's header that change with every
// build (the binary's name and build id), so regenerated reports differ
// only where the figures do.
func pprofTable(out string) string {
	var keep []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "File: ") || strings.HasPrefix(line, "Build ID: ") {
			continue
		}
		keep = append(keep, strings.TrimRight(line, "\n"))
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}
