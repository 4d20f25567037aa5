package insightgen

import (
	"slices"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Flow is a move from one channel to another.
type Flow struct{ From, To handoffv1.Channel }

// Times are the true times to resume: their number and the times at the
// ranks the API's percentiles take (the ceil(p·n)-th smallest).
type Times struct {
	Count    int64
	P50, P90 time.Duration
}

// StepTruth is what the replayed journeys did on one step, by the
// definitions of docs/insight.md.
type StepTruth struct {
	Step string
	// Reached: journeys whose furthest step was this one at some point;
	// LeftForward: those that went on to a later one, or were completed
	// with this one their furthest; Stopped: the rest.
	Reached, LeftForward, Stopped int64
	DropOffRate                   float64
	// Resumes per channel pair, of journeys stopped on the step (from the
	// entry channel, on which the customer asked for the code, to staff's).
	Resumes    map[Flow]int64
	Resumed    int64
	ResumeRate float64
	// Switches: a redeem moves the journey to staff's channel on the step
	// it stopped on; nothing else switches. Their rates, like resumes',
	// are of Reached.
	Switches map[Flow]int64
	Times    Times
	// Expired: journeys left active (not completed), on the step they
	// stopped on; ExpiredUnresumed: of those, the ones nobody resumed.
	Expired, ExpiredUnresumed int64
}

// EntryTruth is started and completed journeys of one entry channel.
type EntryTruth struct {
	Channel            handoffv1.Channel
	Started, Completed int64
	CompletionRate     float64
}

// Truth is the journey map the replayed scripts imply.
type Truth struct {
	From, To           string
	Started, Completed int64
	Entries            []EntryTruth
	Steps              []StepTruth
	Times              Times
	// Switches and Resumes of every step; their rates are of Started.
	Switches, Resumes map[Flow]int64
}

// TruthOf works out the journey map of the scripts as Replay replayed
// them, read over r's days (which hold all of them).
func TruthOf(plan Plan, scripts []Script, r *Replayed) *Truth {
	t := &Truth{From: r.From, To: r.To, Switches: map[Flow]int64{}, Resumes: map[Flow]int64{}}
	steps := make([]StepTruth, len(plan.Steps))
	delays := make([][]time.Duration, len(plan.Steps))
	var all []time.Duration
	for i, id := range plan.Steps {
		steps[i] = StepTruth{Step: id, Resumes: map[Flow]int64{}, Switches: map[Flow]int64{}}
	}
	entries := map[handoffv1.Channel]*EntryTruth{}
	for _, s := range scripts {
		e := entries[s.Entry]
		if e == nil {
			e = &EntryTruth{Channel: s.Entry}
			entries[s.Entry] = e
		}
		e.Started++
		t.Started++
		if s.Completed() {
			e.Completed++
			t.Completed++
		}
		for i := 0; i <= s.Stop; i++ {
			steps[i].Reached++
			if i < s.Stop || s.Completed() {
				steps[i].LeftForward++
			}
		}
		st := &steps[s.Stop]
		if res := s.Resume; res != nil {
			f := Flow{s.Entry, res.Channel}
			st.Resumes[f]++
			st.Resumed++
			st.Switches[f]++
			t.Resumes[f]++
			t.Switches[f]++
			delays[s.Stop] = append(delays[s.Stop], res.After)
			all = append(all, res.After)
		}
		if !s.Completed() {
			st.Expired++
			if s.Resume == nil {
				st.ExpiredUnresumed++
			}
		}
	}
	for i := range steps {
		st := &steps[i]
		st.Stopped = st.Reached - st.LeftForward
		st.DropOffRate = ratio(st.Stopped, st.Reached)
		st.ResumeRate = ratio(st.Resumed, st.Reached)
		st.Times = timesOf(delays[i])
	}
	t.Steps = steps
	t.Times = timesOf(all)
	for _, e := range entries {
		e.CompletionRate = ratio(e.Completed, e.Started)
		t.Entries = append(t.Entries, *e)
	}
	slices.SortFunc(t.Entries, func(a, b EntryTruth) int { return int(a.Channel - b.Channel) })
	return t
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// timesOf takes the percentiles of the raw durations, not of buckets:
// the API's sketch is checked against them.
func timesOf(ds []time.Duration) Times {
	if len(ds) == 0 {
		return Times{}
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	at := func(percent int) time.Duration {
		rank := (percent*len(ds) + 99) / 100 // ceil(p·n), in integers
		return ds[max(rank, 1)-1]
	}
	return Times{Count: int64(len(ds)), P50: at(50), P90: at(90)}
}
