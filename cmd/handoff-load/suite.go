package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// load is how a phase drives its requests: a closed loop of callers, or an
// open loop at a rate.
type load struct {
	callers int
	rate    float64
}

func (l load) open() bool { return l.rate > 0 }

func (l load) String() string {
	switch {
	case l.open():
		return thousands(int64(l.rate)) + "/s"
	case l.callers == 1:
		return "1 caller"
	default:
		return strconv.Itoa(l.callers) + " callers"
	}
}

// workers is how many goroutines may run the phase's requests.
func (l load) workers(maxInFlight int) int {
	if l.open() {
		return maxInFlight
	}
	return l.callers
}

// Groups and workloads, as the report names them.
const (
	groupFloor = "floor"
	groupGRPC  = "gRPC"
	groupGRPCB = "gRPC B" // handoffd B (-versus-flag)
	groupREST  = "REST"

	whatEmpty   = "empty unary call"
	whatScript  = "save script"
	whatSave    = "save"
	whatGet     = "get"
	whatHandoff = "handoff + redeem"
	whatMix     = "mix"
)

// workload is one of handoffd's single workloads: the name -mix weighs it
// by, the name the report gives it, and how an api builds its op.
type workload struct {
	mixName, what string
	build         func(api, journeys, int) (workloadOp, error)
}

var workloads = []workload{
	{"save", whatSave, api.saves},
	{"get", whatGet, api.gets},
	{"handoff", whatHandoff, api.handoffs},
}

// workloadNamed is the workload -mix calls name (ok false for none).
func workloadNamed(name string) (workload, bool) {
	i := slices.IndexFunc(workloads, func(w workload) bool { return w.mixName == name })
	if i < 0 {
		return workload{}, false
	}
	return workloads[i], true
}

// phase is one workload at one load, measured over one or more rounds, and
// what the processes spent meanwhile.
type phase struct {
	group, what string
	load        load
	hd          *handoffd // the handoffd it measures; nil: the first
	res         loadgen.Result
	rounds      []loadgen.Result
	cpu         []time.Duration // per process of driver.procs, summed over the rounds' windows
	wall        time.Duration
	hdRSS       int64   // handoffd's resident set at the end of the last round
	laps        float64 // how many times over the phase's busiest ring was sent (0: no ring)
}

// cores is process i's CPU over the measured windows, in cores (1.0 is one
// core busy the whole time); NaN when it could not be read.
func (p *phase) cores(i int) float64 {
	if p.wall <= 0 || p.cpu[i] < 0 {
		return nan
	}
	return float64(p.cpu[i]) / float64(p.wall)
}

// perRequest is process i's CPU per request answered OK in the measured
// windows, in µs; NaN when it could not be read or nothing was answered.
func (p *phase) perRequest(i int) float64 {
	if p.res.OK == 0 || p.wall <= 0 || p.cpu[i] < 0 {
		return nan
	}
	return float64(p.cpu[i]) / float64(time.Microsecond) / float64(p.res.OK)
}

type procRef struct {
	name string
	pid  int
}

// The processes whose CPU each phase reports, by their index in procs.
const (
	procHandoffd = iota
	procRedis
	procEmptyServer
	procDriver
)

// procs are the processes whose CPU each phase reports; handoffd is hd,
// or the first when nil.
func (d *driver) procs(hd *handoffd) []procRef {
	if hd == nil {
		hd = d.hd
	}
	return []procRef{
		procHandoffd:    {"handoffd", hd.pid()},
		procRedis:       {"redis-server", d.redis.pid()},
		procEmptyServer: {"empty server", d.empty.pid()},
		procDriver:      {"driver", os.Getpid()},
	}
}

func sampleAll(procs []procRef) []loadgen.ProcSample {
	out := make([]loadgen.ProcSample, len(procs))
	for i, p := range procs {
		out[i], _ = loadgen.SampleProc(p.pid) // a zero sample reads as unknown
	}
	return out
}

// round runs op under l for one round of the phase, sampling the processes
// when the round's warm-up ends and when it does, and adds it to p.
func (d *driver) round(ctx context.Context, p *phase, w workloadOp, warmup, duration time.Duration) {
	op := w.op
	// Collect the garbage of whatever ran before (building the rings, the
	// phase before this one in the round), so that this phase's driver CPU
	// is its own; the collection falls outside the measured window.
	runtime.GC()
	procs := d.procs(p.hd)
	if p.cpu == nil {
		p.cpu = make([]time.Duration, len(procs))
	}
	var mu sync.Mutex
	var before []loadgen.ProcSample
	t := time.AfterFunc(warmup, func() {
		s := sampleAll(procs)
		mu.Lock()
		before = s
		mu.Unlock()
	})
	var res loadgen.Result
	if p.load.open() {
		res = loadgen.Open{Rate: p.load.rate, Warmup: warmup, Duration: duration, MaxInFlight: d.opts.maxInFlight}.Run(ctx, timed(op))
	} else {
		res = loadgen.Closed{Callers: p.load.callers, Warmup: warmup, Duration: duration}.Run(ctx, timed(op))
	}
	t.Stop()
	after := sampleAll(procs)
	mu.Lock()
	defer mu.Unlock()
	p.rounds = append(p.rounds, res)
	p.res = loadgen.Combine(p.rounds...)
	p.hdRSS = after[procHandoffd].RSS
	p.laps = w.laps()
	if before == nil {
		return
	}
	p.wall += after[procDriver].At.Sub(before[procDriver].At)
	for i := range procs {
		if before[i].At.IsZero() || after[i].At.IsZero() {
			p.cpu[i] = -1
		} else if p.cpu[i] >= 0 {
			p.cpu[i] += after[i].CPU - before[i].CPU
		}
	}
}

// runPhase measures one workload on its own, in a single round.
func (d *driver) runPhase(ctx context.Context, group, what string, l load, op workloadOp) phase {
	fmt.Fprintf(d.log, "  %-5s %-16s %s\n", group, what, l)
	p := phase{group: group, what: what, load: l}
	d.round(ctx, &p, op, d.opts.warmup, d.opts.duration)
	d.noteErrors(&p)
	return p
}

func (d *driver) noteErrors(p *phase) {
	if p.res.Errors > 0 {
		fmt.Fprintf(d.log, "        %s %s, %s: %d errors, the first: %v\n", p.group, p.what, p.load, p.res.Errors, p.res.FirstError)
	}
}

// spec is a phase to run: its workload and the op that makes its requests.
type spec struct {
	group, what string
	op          workloadOp
	hd          *handoffd // nil: the first
}

// interleave measures the workloads of one load level in rounds: each
// round runs every workload for duration ÷ rounds, one after the other, so
// a burst of other work on the machine falls on the floor and on handoffd
// alike instead of on whichever phase was running.
func (d *driver) interleave(ctx context.Context, l load, specs []spec) []phase {
	rounds := d.opts.rounds
	warmup, duration := d.opts.warmup/time.Duration(rounds), d.opts.duration/time.Duration(rounds)
	phases := make([]phase, len(specs))
	for i, s := range specs {
		phases[i] = phase{group: s.group, what: s.what, load: l, hd: s.hd}
	}
	for r := range rounds {
		fmt.Fprintf(d.log, "  %s, round %d of %d:", l, r+1, rounds)
		for i, s := range specs {
			fmt.Fprintf(d.log, " %s %s;", s.group, s.what)
			d.round(ctx, &phases[i], s.op, warmup, duration)
		}
		fmt.Fprintln(d.log)
	}
	for i := range phases {
		d.noteErrors(&phases[i])
	}
	return phases
}

// floorBlock is how many journeys, from the first, only the save-script
// floor writes, so that its per-worker state never meets a write of
// handoffd's.
func floorBlock(n int) int { return min(n/4, 4096) }

// workloadJourneys are the journeys handoffd's workloads spread over.
func (d *driver) workloadJourneys(n int) journeys {
	first := floorBlock(n)
	return journeys{first: first, n: n - first, salt: d.phaseSalt()}
}

// mixOp is the mix over a's workloads, in the mix's order.
func (d *driver) mixOp(a api, n int) (workloadOp, error) {
	js := d.workloadJourneys(n)
	var ops []workloadOp
	for _, s := range d.opts.mix.Shares() {
		w, _ := workloadNamed(s.Name) // parseFlags refused any other
		op, err := w.build(a, js, d.opts.ring)
		if err != nil {
			return workloadOp{}, fmt.Errorf("build the %s requests: %w", w.what, err)
		}
		ops = append(ops, op)
	}
	return mixOp(d.opts.mix, ops), nil
}

// suite runs, at each load level, the floors and every workload over gRPC
// and over REST, interleaved, on n preloaded journeys.
func (d *driver) suite(ctx context.Context, n int) ([]phase, error) {
	c, r := d.opts.callers, d.opts.rate
	type level struct {
		l     load
		whats []string // handoffd's workloads at this level
	}
	levels := []level{
		{load{callers: 1}, []string{whatSave}},
		{load{callers: c}, []string{whatSave, whatGet, whatHandoff, whatMix}},
		{load{rate: r}, []string{whatSave, whatMix}},
	}
	var out []phase
	for _, lv := range levels {
		workers := lv.l.workers(d.opts.maxInFlight)
		perWorker := max(1, min(64, floorBlock(n)/workers))
		floor, err := newScriptFloor(ctx, d.st, workers, perWorker, floorBlock(n))
		if err != nil {
			return nil, err
		}
		empty, err := d.emptyAPI.emptyCalls()
		if err != nil {
			return nil, err
		}
		specs := []spec{
			{group: groupFloor, what: whatEmpty, op: empty},
			{group: groupFloor, what: whatScript, op: workloadOp{op: floor.op()}},
		}
		if relayRuns(d.opts) {
			relay, err := d.emptyAPI.relayCalls()
			if err != nil {
				return nil, err
			}
			specs = append(specs, spec{group: groupFloor, what: whatRelay, op: relay})
		}
		for _, g := range []struct {
			name string
			api  api
		}{{groupGRPC, d.grpc}, {groupREST, d.rest}} {
			for _, what := range lv.whats {
				var op workloadOp
				var err error
				if i := slices.IndexFunc(workloads, func(w workload) bool { return w.what == what }); i >= 0 {
					op, err = workloads[i].build(g.api, d.workloadJourneys(n), d.opts.ring)
				} else { // whatMix
					op, err = d.mixOp(g.api, n)
				}
				if err != nil {
					return nil, fmt.Errorf("build the %s %s requests: %w", g.name, what, err)
				}
				specs = append(specs, spec{group: g.name, what: what, op: op})
				if g.name == groupGRPC && lv.l == (load{callers: c}) {
					b, err := d.versusSpecs(what, n)
					if err != nil {
						return nil, err
					}
					specs = append(specs, b...)
				}
			}
		}
		out = append(out, d.interleave(ctx, lv.l, specs)...)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// versusSpecs are handoffd B's phase of what (its saves and gets, with
// -versus-flag), to run right after the first's, so that both meet the
// same neighbours.
func (d *driver) versusSpecs(what string, n int) ([]spec, error) {
	if d.grpcB == nil || (what != whatSave && what != whatGet) {
		return nil, nil
	}
	i := slices.IndexFunc(workloads, func(w workload) bool { return w.what == what })
	op, err := workloads[i].build(d.grpcB, d.workloadJourneys(n), d.opts.ring)
	if err != nil {
		return nil, fmt.Errorf("build handoffd B's %s requests: %w", what, err)
	}
	return []spec{{group: groupGRPCB, what: what, op: op, hd: d.hdB}}, nil
}
