package insight

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// MaxDays is the longest range read at once.
const MaxDays = 400

// Days lists the days from `from` to `to`, both included.
func Days(from, to time.Time) []string {
	var days []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	return days
}

// Summarize turns the counts of a type's days into its journey map:
// steps are the type's declared steps in order, moments those of them
// that are moments of truth; expiries count only on days before today
// (the others are still a forecast).
func Summarize(name, from, to string, byDay map[string]map[string]int64, steps []string, moments map[string]bool, today string) *handoffv1.JourneyTypeInsight {
	all := make(map[string]int64)
	expiries := make(map[string]int64)
	through := ""
	if yesterday := previousDay(today); from <= yesterday {
		through = min(to, yesterday)
	}
	for day, counts := range byDay {
		final := day < today
		for f, n := range counts {
			if strings.HasPrefix(f, fieldExpired) || strings.HasPrefix(f, fieldExpiredUnseen) {
				if final {
					expiries[f] += n
				}
				continue
			}
			all[f] += n
		}
	}
	out := &handoffv1.JourneyTypeInsight{Name: name, From: from, To: to, ExpiredThrough: through}

	// Steps: the declared ones in order, then any others counted (older
	// versions' steps), then OtherStep.
	order := slices.Clone(steps)
	seen := map[string]bool{}
	for _, s := range order {
		seen[s] = true
	}
	var extra []string
	for f := range all {
		if step, ok := stepOf(f); ok && !seen[step] && step != OtherStep {
			seen[step] = true
			extra = append(extra, step)
		}
	}
	slices.Sort(extra)
	order = append(order, extra...)
	if hasStep(all, OtherStep) || hasStep(expiries, OtherStep) {
		order = append(order, OtherStep)
	}

	switches := map[[2]handoffv1.Channel]int64{}
	resumes := map[[2]handoffv1.Channel]int64{}
	allTimes := map[int]int64{}
	for _, step := range order {
		si := &handoffv1.StepInsight{
			Step:             step,
			MomentOfTruth:    moments[step],
			Reached:          nonNegative(all[fieldReached+step]),
			LeftForward:      nonNegative(all[fieldLeft+step]),
			Expired:          nonNegative(expiries[fieldExpired+step]),
			ExpiredUnresumed: nonNegative(expiries[fieldExpiredUnseen+step]),
		}
		si.Stopped = max(si.Reached-si.LeftForward, 0)
		si.DropOffRate = rate(si.Stopped, si.Reached)
		times := map[int]int64{}
		for f, n := range all {
			switch {
			case strings.HasPrefix(f, fieldSwitched+step+":"):
				if from, to, ok := channels(f, len(fieldSwitched+step+":")); ok && n > 0 {
					si.Switches = append(si.Switches, &handoffv1.ChannelFlow{From: from, To: to, Count: n})
					switches[[2]handoffv1.Channel{from, to}] += n
				}
			case strings.HasPrefix(f, fieldResumed+step+":"):
				if from, to, ok := channels(f, len(fieldResumed+step+":")); ok && n > 0 {
					si.Resumes = append(si.Resumes, &handoffv1.ChannelFlow{From: from, To: to, Count: n, Rate: rate(n, si.Reached)})
					resumes[[2]handoffv1.Channel{from, to}] += n
					si.Resumed += n
				}
			case strings.HasPrefix(f, fieldResumeTime+step+":"):
				if b, err := strconv.Atoi(f[len(fieldResumeTime+step+":"):]); err == nil && n > 0 {
					times[b] += n
					allTimes[b] += n
				}
			}
		}
		for _, f := range si.Switches {
			f.Rate = rate(f.Count, si.Reached)
		}
		sortFlows(si.Switches)
		sortFlows(si.Resumes)
		si.ResumeRate = rate(si.Resumed, si.Reached)
		si.TimeToResume = resumeTimes(times)
		out.Steps = append(out.Steps, si)
	}
	out.TimeToResume = resumeTimes(allTimes)
	out.Switches = flows(switches)
	out.Resumes = flows(resumes)

	entries := map[handoffv1.Channel]*handoffv1.EntryChannelInsight{}
	entry := func(c handoffv1.Channel) *handoffv1.EntryChannelInsight {
		if e := entries[c]; e != nil {
			return e
		}
		e := &handoffv1.EntryChannelInsight{Channel: c}
		entries[c] = e
		return e
	}
	for f, n := range all {
		if c, ok := strings.CutPrefix(f, fieldStarted); ok {
			entry(channelNamed(c)).Started += n
			out.Started += n
		} else if c, ok := strings.CutPrefix(f, fieldCompleted); ok {
			entry(channelNamed(c)).Completed += n
			out.Completed += n
		}
	}
	for _, e := range entries {
		e.CompletionRate = rate(e.Completed, e.Started)
		out.EntryChannels = append(out.EntryChannels, e)
	}
	slices.SortFunc(out.EntryChannels, func(a, b *handoffv1.EntryChannelInsight) int { return cmp.Compare(a.Channel, b.Channel) })
	for _, fs := range [][]*handoffv1.ChannelFlow{out.Switches, out.Resumes} {
		for _, f := range fs {
			f.Rate = rate(f.Count, out.Started)
		}
	}
	out.Reminders = &handoffv1.Reminders{Sent: all[fieldReminded], BroughtBack: all[fieldBroughtBack], Rate: rate(all[fieldBroughtBack], all[fieldReminded])}
	return out
}

func previousDay(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

// stepFields are the prefixes of the fields that name a step.
var stepFields = []string{fieldReached, fieldLeft, fieldSwitched, fieldResumed, fieldResumeTime, fieldExpired, fieldExpiredUnseen}

// stepOf is the step a step-keyed field names.
func stepOf(field string) (string, bool) {
	for _, p := range stepFields {
		if rest, ok := strings.CutPrefix(field, p); ok {
			step, _, _ := strings.Cut(rest, ":")
			return step, true
		}
	}
	return "", false
}

// hasStep reports whether any of counts names step.
func hasStep(counts map[string]int64, step string) bool {
	for f := range counts {
		if s, ok := stepOf(f); ok && s == step {
			return true
		}
	}
	return false
}

// channels reads `<from>:<to>` from f at i.
func channels(f string, i int) (from, to handoffv1.Channel, ok bool) {
	a, b, ok := strings.Cut(f[i:], ":")
	if !ok {
		return 0, 0, false
	}
	return channelNamed(a), channelNamed(b), true
}

func channelNamed(s string) handoffv1.Channel {
	n, _ := strconv.Atoi(s)
	return handoffv1.Channel(n)
}

func flows(m map[[2]handoffv1.Channel]int64) []*handoffv1.ChannelFlow {
	out := make([]*handoffv1.ChannelFlow, 0, len(m))
	for k, n := range m {
		out = append(out, &handoffv1.ChannelFlow{From: k[0], To: k[1], Count: n})
	}
	sortFlows(out)
	return out
}

func sortFlows(fs []*handoffv1.ChannelFlow) {
	slices.SortFunc(fs, func(a, b *handoffv1.ChannelFlow) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
}

// resumeTimes summarises a histogram of buckets.
func resumeTimes(hist map[int]int64) *handoffv1.ResumeTimes {
	var total int64
	buckets := make([]int, 0, len(hist))
	for b, n := range hist {
		total += n
		buckets = append(buckets, b)
	}
	if total == 0 {
		return nil
	}
	slices.Sort(buckets)
	at := func(p float64) *durationpb.Duration {
		rank := int64(p*float64(total) + 0.999999)
		var seen int64
		for _, b := range buckets {
			seen += hist[b]
			if seen >= rank {
				return durationpb.New(BucketValue(b))
			}
		}
		return durationpb.New(BucketValue(buckets[len(buckets)-1]))
	}
	return &handoffv1.ResumeTimes{Count: total, P50: at(0.5), P90: at(0.9)}
}

func rate(n, of int64) float64 {
	if of <= 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func nonNegative(n int64) int64 { return max(n, 0) }
