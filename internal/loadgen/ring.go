package loadgen

import (
	"errors"
	"sync/atomic"
)

// Ring holds a workload's requests, built (and encoded) before the run so
// that making a request costs the driver nothing per call but taking the
// next one. Callers share it: each request goes to one caller, in order,
// and after the last the ring starts again (a lap), sending each request
// once more. Its position carries over from one run to the next, so the
// rounds of a phase continue where the last one stopped instead of sending
// its first requests again.
type Ring[T any] struct {
	items []T
	next  atomic.Uint64
}

// BuildRing makes a ring of n requests, the k-th made by build(k).
func BuildRing[T any](n int, build func(k int) (T, error)) (*Ring[T], error) {
	if n <= 0 {
		return nil, errors.New("a ring needs at least one request")
	}
	items := make([]T, n)
	for k := range items {
		var err error
		if items[k], err = build(k); err != nil {
			return nil, err
		}
	}
	return &Ring[T]{items: items}, nil
}

// Next is the next request, for one caller only.
func (r *Ring[T]) Next() T {
	return r.items[(r.next.Add(1)-1)%uint64(len(r.items))]
}

// Len is how many different requests the ring holds.
func (r *Ring[T]) Len() int { return len(r.items) }

// Taken is how many requests Next has handed out; beyond Len, requests
// were sent again.
func (r *Ring[T]) Taken() uint64 { return r.next.Load() }
