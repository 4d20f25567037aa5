package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Share is one kind of request in a mix and its weight.
type Share struct {
	Name   string
	Weight int
}

// Mix picks the kind of each request so that every run of consecutive
// requests as long as the weights' sum holds each kind exactly in
// proportion, and the kinds are interleaved as evenly as possible (smooth
// weighted round robin), not in blocks: 70/20/10 is never 70 saves in a row.
type Mix struct {
	shares []Share
	wheel  []int // index into shares, one entry per unit of weight
}

// NewMix builds a mix; every weight must be positive.
func NewMix(shares ...Share) (*Mix, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("a mix needs at least one kind of request")
	}
	total := 0
	for _, s := range shares {
		if s.Weight <= 0 {
			return nil, fmt.Errorf("weight of %q must be positive, not %d", s.Name, s.Weight)
		}
		total += s.Weight
	}
	m := &Mix{shares: shares, wheel: make([]int, 0, total)}
	current := make([]int, len(shares))
	for range total {
		best := 0
		for i, s := range shares {
			current[i] += s.Weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		m.wheel = append(m.wheel, best)
	}
	return m, nil
}

// ParseMix reads "save=70,get=20,handoff=10".
func ParseMix(s string) (*Mix, error) {
	var shares []Share
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("mix %q: %q is not name=weight", s, part)
		}
		n, err := strconv.Atoi(w)
		if err != nil {
			return nil, fmt.Errorf("mix %q: weight of %q: %w", s, name, err)
		}
		shares = append(shares, Share{Name: name, Weight: n})
	}
	return NewMix(shares...)
}

// Pick is the index (into the shares given to NewMix) of request seq's kind.
func (m *Mix) Pick(seq uint64) int {
	return m.wheel[seq%uint64(len(m.wheel))]
}

// Shares are the kinds and weights, in the order given.
func (m *Mix) Shares() []Share { return m.shares }

// String is the mix as ParseMix reads it.
func (m *Mix) String() string {
	parts := make([]string, len(m.shares))
	for i, s := range m.shares {
		parts[i] = s.Name + "=" + strconv.Itoa(s.Weight)
	}
	return strings.Join(parts, ",")
}
