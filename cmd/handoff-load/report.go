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
	insight *insightCount // with -typed-journeys
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

// micros is a CPU time per request in µs.
func micros(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf("%.0f µs", v)
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
	if r.opts.versus() {
		bin := "the same binary"
		if r.opts.versusBin != "" {
			bin = "`" + r.opts.versusBin + "`"
		}
		fmt.Fprintf(&b, "Rows %s: a second handoffd on the same Redis, %s, started with the driver's own flags and `%s`, its gRPC saves and gets at %d callers measured right after the first's in each round (each handoffd also receives the changes the other's saves publish).\n\n",
			groupGRPCB, bin, strings.Join(r.opts.versusFlags, " "), r.opts.callers)
	}
	if r.insight != nil {
		fmt.Fprintf(&b, "Journeys of the declared journey type %s (-typed-journeys), their answers under its steps; at the end, %s.\n\n", r.insight.journeyType, r.insight)
	}

	b.WriteString("#### Targets\n\n")
	b.WriteString(r.targets())
	b.WriteString("\n#### Every phase\n\n")
	b.WriteString(r.phaseTable())
	b.WriteString("\n#### CPU per request\n\n")
	b.WriteString(r.cpuTable())
	if r.hot != nil {
		b.WriteString("\n#### One journey, many writers\n\n")
		b.WriteString(r.hotText())
	}
	b.WriteString("\n#### Memory per journey\n\n")
	b.WriteString(r.memoryTable())
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
	many := load{callers: c}

	// 1. Throughput against the bare gRPC call, both sent alike.
	empty := get(groupFloor, whatEmpty, many)
	for _, t := range []struct {
		what       string
		goal, aim  float64
		goalString string
	}{
		{whatSave, 0.35, 0.5, "≥ 0.35 (aim 0.50)"},
		{whatGet, 0.5, 0, "≥ 0.50"},
	} {
		p := get(groupGRPC, t.what, many)
		v := tp(p) / tp(empty)
		row(fmt.Sprintf("%s over gRPC, %d callers ÷ empty unary call, %d callers (throughput)", t.what, c, c),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), perSec(tp(p)), perSec(tp(empty))), t.goalString, withAim(verdict(v, t.goal, true), v, t.aim, true))
	}

	// Not targets, but what bounds the save: its Redis work alone.
	save, script := get(groupGRPC, whatSave, many), get(groupFloor, whatScript, many)
	row(fmt.Sprintf("the save script alone, %d callers ÷ empty unary call (not a target: a save does all of this work and more)", c),
		fmt.Sprintf("%s (%s ÷ %s)", ratio(tp(script)/tp(empty)), perSec(tp(script)), perSec(tp(empty))), "–", "–")
	row(fmt.Sprintf("save over gRPC ÷ the save script, %d callers (not a target)", c),
		fmt.Sprintf("%s (%s ÷ %s)", ratio(tp(save)/tp(script)), perSec(tp(save)), perSec(tp(script))), "–", "–")
	// And the relay (relay.go): the same script behind a bare server, the
	// most any gRPC service running it per call can do here.
	relayMany := r.find(groupFloor, whatRelay, many)
	if relayMany != nil {
		row(fmt.Sprintf("the bare server running the save script per call (the relay), %d callers ÷ empty unary call (not a target: the most any gRPC service running this script per call reaches here)", c),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(tp(*relayMany)/tp(empty)), perSec(tp(*relayMany)), perSec(tp(empty))), "–", "–")
	}

	// 2. CPU per save of the processes that serve it, the driver apart.
	hd, redis := save.perRequest(procHandoffd), save.perRequest(procRedis)
	row(fmt.Sprintf("CPU per gRPC save, handoffd + redis-server, %d callers", c),
		fmt.Sprintf("%s (%s + %s; %s + %s cores at %s)", micros(hd+redis), micros(hd), micros(redis), cores(save.cores(procHandoffd)), cores(save.cores(procRedis)), perSec(tp(save))),
		"≤ 150 µs (aim ≤ 110 µs)", withAim(verdict(hd+redis, 150, false), hd+redis, 110, false))
	row(fmt.Sprintf("redis-server CPU per save script, %d callers (not a target: Redis's share of a save when nothing else runs)", c),
		fmt.Sprintf("%s (%s cores at %s)", micros(script.perRequest(procRedis)), cores(script.cores(procRedis)), perSec(tp(script))), "–", "–")
	if relayMany != nil {
		srv, redis := relayMany.perRequest(procEmptyServer), relayMany.perRequest(procRedis)
		row(fmt.Sprintf("CPU per save of the relay, its server + redis-server, %d callers (not a target: the least any gRPC service running this script per call spends)", c),
			fmt.Sprintf("%s (%s + %s)", micros(srv+redis), micros(srv), micros(redis)), "–", "–")
	}
	// The driver's own check: at one rate, a save should cost it no more
	// than an empty call. (Between rates its CPU per call differs several
	// times over, mostly the Go runtime waking up for each event.)
	steady := load{rate: rate}
	emptyOpen, grpcOpen, restOpen := get(groupFloor, whatEmpty, steady), get(groupGRPC, whatSave, steady), get(groupREST, whatSave, steady)
	row(fmt.Sprintf("driver CPU per call at a steady %s: empty call, gRPC save, REST save (not a target: at one rate a save should cost the driver no more than an empty call)", steady),
		fmt.Sprintf("%s, %s, %s", micros(emptyOpen.perRequest(procDriver)), micros(grpcOpen.perRequest(procDriver)), micros(restOpen.perRequest(procDriver))), "–", "–")

	// 3. Latency added over the save script, open loop.
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
	if relayOpen := r.find(groupFloor, whatRelay, load{rate: rate}); relayOpen != nil {
		l, f := relayOpen.res.Latency, scriptOpen.res.Latency
		row(fmt.Sprintf("p99 and p90 latency the relay adds to the save script, both at a steady %s (not a target: the least any gRPC service running this script per call adds here)", load{rate: rate}),
			fmt.Sprintf("%s, %s", signedMS(l.P99-f.P99), signedMS(l.P90-f.P90)), "–", "–")
	}

	// 4. Single caller against the sum of the floors.
	one := load{callers: 1}
	s1, e1, f1 := get(groupGRPC, whatSave, one), get(groupFloor, whatEmpty, one), get(groupFloor, whatScript, one)
	floor := e1.res.Latency.P50 + f1.res.Latency.P50
	v := float64(s1.res.Latency.P50) / float64(floor)
	row("save p50, 1 caller ÷ (empty call p50 + save script p50, 1 caller each)",
		fmt.Sprintf("%s (%s ÷ (%s + %s))", ratio(v), ms(s1.res.Latency.P50), ms(e1.res.Latency.P50), ms(f1.res.Latency.P50)),
		"≤ 1.30", verdict(v, 1.3, false))
	if relayOne := r.find(groupFloor, whatRelay, one); relayOne != nil {
		row("the relay's p50, 1 caller ÷ (empty call p50 + save script p50) (not a target: the least any gRPC service running this script per call takes)",
			fmt.Sprintf("%s (%s)", ratio(float64(relayOne.res.Latency.P50)/float64(floor)), ms(relayOne.res.Latency.P50)), "–", "–")
	}

	// 5. REST against gRPC: the save is the target, the rest is shown.
	for _, what := range []string{whatSave, whatGet, whatHandoff, whatMix} {
		rest, grpc := get(groupREST, what, many), get(groupGRPC, what, many)
		v := tp(rest) / tp(grpc)
		target, goal, res := fmt.Sprintf("REST ÷ gRPC throughput, %s, %d callers", what, c), "≥ 0.50", verdict(v, 0.5, true)
		if what != whatSave {
			target, goal, res = target+" (not a target)", "–", "–"
		}
		row(target, fmt.Sprintf("%s (%s ÷ %s)", ratio(v), perSec(tp(rest)), perSec(tp(grpc))), goal, res)
	}

	// 6. One journey.
	if h := r.hot; h != nil {
		res := verdict(h.run.Throughput, 2000, true)
		if len(h.lost) > 0 {
			res = fmt.Sprintf("**miss**: %d lost or invented updates", len(h.lost))
		}
		row(fmt.Sprintf("one journey, %d concurrent writers: saves/s without a lost update", h.writers),
			fmt.Sprintf("%s, %d lost", perSec(h.run.Throughput), len(h.lost)), "≥ 2,000/s, 0 lost", res)
	}

	// 7. Memory at the preload size, in the two states the targets name.
	for _, s := range r.scale {
		if s.mem.journeys != r.opts.journeys {
			continue
		}
		m := s.mem
		v := m.atRest() / m.preloaded.rawJSON
		row(fmt.Sprintf("Redis memory per journey ÷ raw JSON of its answers, %s journeys right after the preload (hash, index and keyspace counted; timeline and change log apart)", thousands(int64(m.journeys))),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), bytesIEC(m.atRest()), bytesIEC(m.preloaded.rawJSON)), "≤ 1.50", verdict(v, 1.5, false))
		v = m.afterChange() / m.saved.rawJSON
		row(fmt.Sprintf("the same for the hour after a change, change log included: right after one save each of %s of them", thousands(int64(m.savedCount))),
			fmt.Sprintf("%s (%s ÷ %s)", ratio(v), bytesIEC(m.afterChange()), bytesIEC(m.saved.rawJSON)), "≤ 2.00", verdict(v, 2.0, false))
	}

	// 8. Flatness.
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

// withAim adds to a verdict whether the aim beyond the goal was reached
// too (aim 0: there is none).
func withAim(verdict string, measured, aim float64, atLeast bool) string {
	if aim == 0 || math.IsNaN(measured) || verdict != "**pass**" {
		return verdict
	}
	if atLeast && measured >= aim || !atLeast && measured <= aim {
		return verdict + ", aim reached"
	}
	return verdict + ", aim not reached"
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
		if p.group != groupFloor || p.what == whatRelay {
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

// cpuTable is each process's CPU per request of each phase: the figure a
// shared machine distorts least, since it does not depend on how many
// cores the neighbours left free, only on the work.
func (r *report) cpuTable() string {
	var b strings.Builder
	b.WriteString("| | workload | load | throughput | handoffd | redis-server | handoffd + redis-server | floor server | driver |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range r.phases {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			p.group, p.what, p.load, perSec(p.res.Throughput), micros(p.perRequest(procHandoffd)), micros(p.perRequest(procRedis)),
			micros(p.perRequest(procHandoffd)+p.perRequest(procRedis)), micros(p.perRequest(procEmptyServer)), micros(p.perRequest(procDriver)))
	}
	b.WriteString("\nCPU time of each process over the measured windows ÷ the requests answered OK in them. A process that serves no part of a request still shows what it spent meanwhile (handoffd receives the changes the save script publishes); a handoff + redeem is two calls and counts as one.\n")
	if laps := r.lapped(); laps != "" {
		fmt.Fprintf(&b, "\nEach workload's requests are encoded before its phase, %s of them, and sent in turn. These phases sent theirs more than once over, so some requests went to the same journey with the same answers again: %s.\n", thousands(int64(r.opts.ring)), laps)
	}
	return b.String()
}

// lapped lists the phases whose rings were sent more than once over.
func (r *report) lapped() string {
	var out []string
	for _, p := range r.phases {
		if p.laps > 1 && p.what != whatEmpty { // the empty call's ring is one request
			out = append(out, fmt.Sprintf("%s %s, %s (%.1f times)", p.group, p.what, p.load, p.laps))
		}
	}
	return strings.Join(out, "; ")
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

// memoryTable is each size's memory per journey in both states, key by
// key, with what each target counts.
func (r *report) memoryTable() string {
	var b strings.Builder
	b.WriteString("| journeys | state | used_memory per journey | journey hash | customer index | timeline | change log | raw JSON of the answers | counted | counted ÷ JSON | goal |\n")
	b.WriteString("|--:|---|--:|--:|--:|--:|--:|--:|---|--:|--:|\n")
	for _, s := range r.scale {
		m := s.mem
		states := []struct {
			name    string
			st      journeyMemory
			what    string
			counted float64
			goal    string
		}{
			{"right after the preload", m.preloaded, "used − timeline − change log", m.atRest(), "≤ 1.50"},
			{fmt.Sprintf("right after one save each (%s saved)", thousands(int64(m.savedCount))), m.saved, "used − timeline", m.afterChange(), "≤ 2.00"},
		}
		if m.savedCount == 0 {
			states = states[:1]
		}
		for _, st := range states {
			j := st.st
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				thousands(int64(m.journeys)), st.name, bytesIEC(j.used), bytesIEC(j.hash), bytesIEC(j.index), bytesIEC(j.timeline), bytesIEC(j.changeLog),
				bytesIEC(j.rawJSON), st.what, ratio(st.counted/j.rawJSON), st.goal)
		}
	}
	fmt.Fprintf(&b, "\nEach size is loaded into an emptied Redis through the store's create script (as CreateJourney writes it: hash, index, one-touchpoint timeline; a create is announced, not logged) and measured; then %d× -memory-sample journeys spread over it are saved once each through handoffd (a page's three answers and the next step, over gRPC) and measured again, before anything else writes. "+
		"used_memory per journey is INFO's used_memory less mem_clients_normal (the connections' buffers, which follow the load, not the data), after the preload less before it ÷ journeys, plus for the second state the growth the saves caused ÷ journeys saved; it includes Redis's keyspace and expiry entries. "+
		"Per-key figures are MEMORY USAGE … SAMPLES 0 means over %d journeys (in the second state, of the saved ones); the raw JSON is of those journeys' answers at the time.\n", savedPerSampled, r.opts.memorySample)
	return b.String()
}

func (r *report) scaleTable() string {
	var b strings.Builder
	b.WriteString("Each size is measured as under Memory per journey, then put under the gRPC mix.\n\n")
	b.WriteString("| journeys | creates/s | used_memory per journey | right after the preload ÷ JSON | right after a save ÷ JSON | mix throughput | p50 | p99 | CPU handoffd | Redis | handoffd RSS | Redis RSS |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.scale {
		m, p := s.mem, s.mix
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			thousands(int64(m.journeys)), perSec(m.loadRate), bytesIEC(m.preloaded.used), ratio(m.atRest()/m.preloaded.rawJSON), ratio(m.afterChange()/m.saved.rawJSON),
			perSec(p.res.Throughput), ms(p.res.Latency.P50), ms(p.res.Latency.P99),
			cores(p.cores(procHandoffd)), cores(p.cores(procRedis)), bytesIEC(float64(p.hdRSS)), bytesIEC(float64(m.redisRSS)))
	}
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
	// The path as given (make bench: test-output/…), not this machine's.
	fmt.Fprintf(&b, "CPU profile of handoffd (from its `--debug-addr`) over the measured window of one more gRPC save phase, %d callers, %s: %s saves/s while profiled, p50 %s, p99 %s. Profile: `%s`.\n\n",
		r.opts.callers, r.env.date.Format("2006-01-02"), thousands(int64(p.res.Throughput)), ms(p.res.Latency.P50), ms(p.res.Latency.P99), r.opts.cpuprofile)
	if p.toolNote != "" {
		b.WriteString("No reading: " + p.toolNote + "\n")
		return b.String()
	}
	b.WriteString("Flat (`go tool pprof -top`):\n\n```\n" + p.flat + "\n```\n\n")
	b.WriteString("Cumulative (`go tool pprof -top -cum`):\n\n```\n" + p.cum + "\n```\n")
	return b.String()
}
