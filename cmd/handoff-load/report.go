package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	opts    options
	env     environment
	phases  []phase
	scale   []scaleRow
	hot     *hotResult
	soak    *soakResult
	profile *profileResult
}

type scaleRow struct {
	mem memory
	mix phase
}

// find is the phase of group and what at l, or nil.
func (r *report) find(group, what string, l load) *phase {
	for i := range r.phases {
		p := &r.phases[i]
		if p.group == group && p.what == what && p.load == l {
			return p
		}
	}
	return nil
}

// section is one generated part of the document.
type section struct {
	name, body string
}

func (r *report) sections() []section {
	if r.opts.soakOnly {
		return []section{{"soak", r.soakSection()}}
	}
	out := []section{{"results", r.results()}}
	if r.soak != nil {
		out = append(out, section{"soak", r.soakSection()})
	}
	if r.profile != nil {
		out = append(out, section{"profile", r.profileSection()})
	}
	return out
}

// Formatting.

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "–"
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// signedMS is ms for a difference, which may be negative.
func signedMS(d time.Duration) string {
	if d < 0 {
		return "−" + ms(-d)
	}
	return ms(d)
}

func perSec(v float64) string { return thousands(int64(math.Round(v))) + "/s" }

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func cores(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf("%.2f", v)
}

func bytesIEC(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return thousands(int64(math.Round(v))) + " B"
}

// percent shows small misses with a decimal, so a miss never reads "0%".
func percent(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f%%", v)
	}
	return fmt.Sprintf("%.0f%%", v)
}

// verdict compares a measured value with its goal: at least (atLeast) or at
// most, and says by how much a miss misses.
func verdict(measured, goal float64, atLeast bool) string {
	switch {
	case math.IsNaN(measured):
		return "not measured"
	case atLeast && measured >= goal, !atLeast && measured <= goal:
		return "**pass**"
	case atLeast:
		return "**miss**: " + percent(100*(goal-measured)/goal) + " short"
	}
	return "**miss**: " + percent(100*(measured-goal)/goal) + " over"
}

// results is the main section: the run, the targets, every phase, the
// one-journey check and the growth table.
func (r *report) results() string {
	var b strings.Builder
	e := r.env
	fmt.Fprintf(&b, "Measured %s on %d CPUs (%s), %s, Redis %s; load average %s before the run and %s after (other work on the machine is in these figures).\n\n",
		e.date.Format("2006-01-02 15:04 MST"), e.nproc, e.cpu, e.goVersion, e.redisVersion, e.loadBefore, e.loadAfter)
	fmt.Fprintf(&b, "`go run ./cmd/handoff-load %s`: %s measured per phase after %s of warm-up, in %d rounds interleaved with the other phases of the same load; %s journeys preloaded; closed loops of %d callers over %d gRPC connections; open loops at %s; codes redeemed by %d agents.\n\n",
		strings.Join(e.args, " "), r.opts.duration, r.opts.warmup, r.opts.rounds, thousands(int64(r.opts.journeys)), r.opts.callers, r.opts.conns, load{rate: r.opts.rate}, r.opts.agents)

	b.WriteString("#### Targets\n\n")
	b.WriteString(r.targets())
	b.WriteString("\n#### Every phase\n\n")
	b.WriteString(r.phaseTable())
	if r.hot != nil {
		b.WriteString("\n#### One journey, many writers\n\n")
		b.WriteString(r.hotText())
	}
	b.WriteString("\n#### Growth with stored journeys\n\n")
	b.WriteString(r.scaleTable())
	return b.String()
}

func (r *report) targets() string {
	c, rate := r.opts.callers, r.opts.rate
	get := func(group, what string, l load) phase {
		if p := r.find(group, what, l); p != nil {
			return *p
		}
		return phase{}
	}
	tp := func(p phase) float64 { return p.res.Throughput }
	var b strings.Builder
	b.WriteString("| target | measured | goal | result |\n|---|---|---|---|\n")
	row := func(target, measured, goal, result string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", target, measured, goal, result)
	}

	// 1. Save throughput against the bare gRPC call.
	save, empty := get(groupGRPC, whatSave, load{callers: c}), get(groupFloor, whatEmpty, load{callers: c})
	v := tp(save) / tp(empty)
	row(fmt.Sprintf("save over gRPC, %d callers ÷ empty unary call, %d callers (throughput)", c, c),
		fmt.Sprintf("%s (%s ÷ %s)", ratio(v), perSec(tp(save)), perSec(tp(empty))), "≥ 0.40 (aim 0.60)", verdict(v, 0.40, true))

	// Not a target, but what bounds it: the save's Redis work alone.
	script := get(groupFloor, whatScript, load{callers: c})
	row(fmt.Sprintf("the save script alone, %d callers ÷ empty unary call (not a target: a save does all of this work and more)", c),
		fmt.Sprintf("%s (%s ÷ %s)", ratio(tp(script)/tp(empty)), perSec(tp(script)), perSec(tp(empty))), "–", "–")
	row(fmt.Sprintf("save over gRPC ÷ the save script, %d callers (not a target)", c),
		fmt.Sprintf("%s (%s ÷ %s)", ratio(tp(save)/tp(script)), perSec(tp(save)), perSec(tp(script))), "–", "–")

	// 2. Latency added over the save script, open loop.
	saveOpen, scriptOpen := get(groupGRPC, whatSave, load{rate: rate}), get(groupFloor, whatScript, load{rate: rate})
	for _, q := range []struct {
		name       string
		svc, floor time.Duration
		limit      time.Duration
	}{
		{"p99", saveOpen.res.Latency.P99, scriptOpen.res.Latency.P99, 750 * time.Microsecond},
		{"p90", saveOpen.res.Latency.P90, scriptOpen.res.Latency.P90, 400 * time.Microsecond},
	} {
		added := q.svc - q.floor
		res := verdict(float64(added), float64(q.limit), false)
		if added < 0 {
			// The floor cannot be slower than the save that contains it:
			// other work on the machine hit the floor's phase harder.
			res = "inconclusive: the floor's tail was the slower (noise)"
		}
		row(fmt.Sprintf("%s latency a gRPC save adds to the save script, both at a steady %s", q.name, load{rate: rate}),
			fmt.Sprintf("%s (%s − %s; %s× the script's)", signedMS(added), ms(q.svc), ms(q.floor), ratio(float64(q.svc)/float64(q.floor))),
			"≤ "+ms(q.limit), res)
	}

	// 3. Single caller against the sum of the floors.
	one := load{callers: 1}
	s1, e1, f1 := get(groupGRPC, whatSave, one), get(groupFloor, whatEmpty, one), get(groupFloor, whatScript, one)
	floor := e1.res.Latency.P50 + f1.res.Latency.P50
	v = float64(s1.res.Latency.P50) / float64(floor)
	row("save p50, 1 caller ÷ (empty call p50 + save script p50, 1 caller each)",
		fmt.Sprintf("%s (%s ÷ (%s + %s))", ratio(v), ms(s1.res.Latency.P50), ms(e1.res.Latency.P50), ms(f1.res.Latency.P50)),
		"≤ 1.30", verdict(v, 1.3, false))

	// 4. REST against gRPC, workload by workload.
	for _, what := range []string{whatMix, whatSave, whatGet, whatHandoff} {
		rest, grpc := get(groupREST, what, load{callers: c}), get(groupGRPC, what, load{callers: c})
		v := tp(rest) / tp(grpc)
		row(fmt.Sprintf("REST ÷ gRPC throughput, %s, %d callers", what, c),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), perSec(tp(rest)), perSec(tp(grpc))), "≥ 0.50", verdict(v, 0.5, true))
	}

	// 5. One journey.
	if h := r.hot; h != nil {
		res := verdict(h.run.Throughput, 1000, true)
		if len(h.lost) > 0 {
			res = fmt.Sprintf("**miss**: %d lost or invented updates", len(h.lost))
		}
		row(fmt.Sprintf("one journey, %d concurrent writers: saves/s without a lost update", h.writers),
			fmt.Sprintf("%s, %d lost", perSec(h.run.Throughput), len(h.lost)), "≥ 1,000/s, 0 lost", res)
	}

	// 6. Memory at the preload size.
	for _, s := range r.scale {
		if s.mem.journeys != r.opts.journeys {
			continue
		}
		m := s.mem
		v := m.withoutTimeline() / m.rawJSON
		row(fmt.Sprintf("Redis memory per journey ÷ raw JSON of its answers, %s journeys (timeline and change log apart)", thousands(int64(m.journeys))),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), bytesIEC(m.withoutTimeline()), bytesIEC(m.rawJSON)), "≤ 1.50", verdict(v, 1.5, false))
		v = (m.withoutTimeline() + m.changeLog) / m.rawJSON
		row("the same with the change log, for the hour after a change (not a target)",
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), bytesIEC(m.withoutTimeline()+m.changeLog), bytesIEC(m.rawJSON)), "–", "–")
	}

	// 7. Flatness.
	if s := r.soak; s != nil {
		res := "**pass**"
		if !s.heapFlat || !s.goroutinesFlat {
			res = "**miss**: grew"
		}
		row(fmt.Sprintf("handoffd heap and goroutines over a steady %s run (gRPC mix at %s)", r.opts.soak, load{rate: rate}),
			fmt.Sprintf("heap %+.1f MiB, goroutines %+.0f (last quarter's median − first's)", s.heapGrowth/(1<<20), s.goroutinesGrowth), "flat", res)
	} else {
		row("handoffd heap and goroutines over a steady 10-minute run", "run apart (-soak 10m -soak-only): see Soak", "flat", "–")
	}
	return b.String()
}

// phaseTable lists every phase with its ratios to the floor measured at the
// same load: throughput ÷ the empty call's, and p50 ÷ (empty call p50 +
// save script p50).
func (r *report) phaseTable() string {
	var b strings.Builder
	b.WriteString("| | workload | load | throughput | ÷ empty call | p50 | ÷ floor p50 | p90 | p99 | p99.9 | max | errors | CPU handoffd | Redis | floor server | driver | handoffd RSS |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range r.phases {
		tpRatio, p50Ratio := nan, nan
		if p.group != groupFloor {
			empty, script := r.find(groupFloor, whatEmpty, p.load), r.find(groupFloor, whatScript, p.load)
			if empty != nil && !p.load.open() {
				tpRatio = p.res.Throughput / empty.res.Throughput
			}
			if empty != nil && script != nil {
				p50Ratio = float64(p.res.Latency.P50) / float64(empty.res.Latency.P50+script.res.Latency.P50)
			}
		}
		l := p.res.Latency
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n",
			p.group, p.what, p.load, perSec(p.res.Throughput), ratio(tpRatio), ms(l.P50), ratio(p50Ratio), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max),
			p.res.Errors, cores(p.cores(procHandoffd)), cores(p.cores(procRedis)), cores(p.cores(procEmptyServer)), cores(p.cores(procDriver)), bytesIEC(float64(p.hdRSS)))
	}
	b.WriteString("\nCPU is in cores (1.00 = one core busy all the time) over the measured window; a handoff + redeem is two calls and counts as one.\n")
	if errs := r.firstErrors(); errs != "" {
		b.WriteString("\nFirst error of each phase that had any:\n\n" + errs)
	}
	return b.String()
}

func (r *report) firstErrors() string {
	var b strings.Builder
	for _, p := range r.phases {
		if p.res.FirstError != nil {
			fmt.Fprintf(&b, "- %s %s, %s: %v\n", p.group, p.what, p.load, p.res.FirstError)
		}
	}
	return b.String()
}

func (r *report) hotText() string {
	h := r.hot
	var b strings.Builder
	fmt.Fprintf(&b, "%d writers saved their own answer of one journey over gRPC, without etags, as fast as answered, for %s: %s acknowledged saves (%s/s in the window, p50 %s, p99 %s), %d refused with ABORTED after the service's retries, %d failed otherwise. ",
		h.writers, r.opts.duration, thousands(h.acked), thousands(int64(h.run.Throughput)), ms(h.run.Latency.P50), ms(h.run.Latency.P99), h.refused, h.unknown)
	fmt.Fprintf(&b, "The timeline gained %s touchpoints and the revision moved %s. ", thousands(h.added), thousands(h.revisions))
	if len(h.lost) == 0 {
		b.WriteString("Every writer's answer held its last acknowledged value: no update was lost.")
	} else {
		b.WriteString("**Lost updates:**\n\n")
		for _, l := range h.lost {
			b.WriteString("- " + l + "\n")
		}
	}
	fmt.Fprintf(&b, " A timeline costs Redis %s per touchpoint (MEMORY USAGE ÷ length, measured on this journey's timeline).\n", bytesIEC(h.perTouchByte))
	return b.String()
}

func (r *report) scaleTable() string {
	var b strings.Builder
	b.WriteString("Each size is loaded into an emptied Redis through the store's create script (as CreateJourney writes it: hash, index, one-touchpoint timeline, one-change log), measured, then put under the gRPC mix.\n\n")
	b.WriteString("| journeys | creates/s | used_memory per journey | journey hash | customer index | timeline | change log | raw JSON of the answers | (used − timeline − log) ÷ JSON | mix throughput | p50 | p99 | CPU handoffd | Redis | handoffd RSS | Redis RSS |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.scale {
		m, p := s.mem, s.mix
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			thousands(int64(m.journeys)), perSec(m.loadRate), bytesIEC(m.usedPerJ), bytesIEC(m.hash), bytesIEC(m.index), bytesIEC(m.timeline), bytesIEC(m.changeLog),
			bytesIEC(m.rawJSON), ratio(m.withoutTimeline()/m.rawJSON), perSec(p.res.Throughput), ms(p.res.Latency.P50), ms(p.res.Latency.P99),
			cores(p.cores(procHandoffd)), cores(p.cores(procRedis)), bytesIEC(float64(p.hdRSS)), bytesIEC(float64(m.redisRSS)))
	}
	fmt.Fprintf(&b, "\nPer-key figures are MEMORY USAGE means over %d journeys spread over each size; used_memory per journey is INFO's used_memory after the preload less before it, ÷ journeys, and includes Redis's own keyspace overhead.\n", r.opts.memorySample)
	return b.String()
}

func (r *report) soakSection() string {
	s := r.soak
	var b strings.Builder
	e := r.env
	fmt.Fprintf(&b, "Measured %s on %d CPUs (%s); load average %s before and %s after. `go run ./cmd/handoff-load %s`: the gRPC mix at a steady %s on %s journeys for %s after %s of warm-up (%s requests, %d errors, p50 %s, p99 %s, p99.9 %s), sampling handoffd every %s.\n\n",
		e.date.Format("2006-01-02 15:04 MST"), e.nproc, e.cpu, e.loadBefore, e.loadAfter, strings.Join(e.args, " "),
		load{rate: r.opts.rate}, thousands(int64(r.opts.journeys)), r.opts.soak, r.opts.warmup, thousands(s.res.OK), s.res.Errors,
		ms(s.res.Latency.P50), ms(s.res.Latency.P99), ms(s.res.Latency.P999), r.opts.soakEvery)
	b.WriteString("| after | heap in use | goroutines | RSS |\n|--:|--:|--:|--:|\n")
	// About a dozen rows, evenly spread, the last sample always among them.
	step := max(1, len(s.at)/12)
	for i := 0; i < len(s.at); i += step {
		if i+step >= len(s.at) {
			i = len(s.at) - 1
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s |\n", s.at[i].Round(time.Second), bytesIEC(s.heap[i]), s.goroutines[i], bytesIEC(s.rss[i]))
	}
	flat := func(ok bool) string {
		if ok {
			return "flat"
		}
		return "**grew**"
	}
	fmt.Fprintf(&b, "\nMedian of the last quarter of samples less that of the first: heap %+.1f MiB (%s; tolerance %.0f%% or %s), goroutines %+.0f (%s; tolerance %.0f%% or %d).\n",
		s.heapGrowth/(1<<20), flat(s.heapFlat), heapRelTol*100, bytesIEC(heapAbsTol), s.goroutinesGrowth, flat(s.goroutinesFlat), goroutinesRelTol*100, goroutinesAbsTol)
	return b.String()
}

func (r *report) profileSection() string {
	p := r.profile
	var b strings.Builder
	fmt.Fprintf(&b, "CPU profile of handoffd (from its `--debug-addr`) over the measured window of one more gRPC save phase, %d callers, %s: %s saves/s while profiled, p50 %s, p99 %s. Profile: `%s`.\n\n",
		r.opts.callers, r.env.date.Format("2006-01-02"), thousands(int64(p.res.Throughput)), ms(p.res.Latency.P50), ms(p.res.Latency.P99), p.path)
	if p.toolNote != "" {
		b.WriteString("No reading: " + p.toolNote + "\n")
		return b.String()
	}
	b.WriteString("Flat (`go tool pprof -top`):\n\n```\n" + p.flat + "\n```\n\n")
	b.WriteString("Cumulative (`go tool pprof -top -cum`):\n\n```\n" + p.cum + "\n```\n")
	return b.String()
}
