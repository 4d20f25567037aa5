package journeytype

import (
	"slices"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// NamePrefix starts every journey type's resource name.
const NamePrefix = "journeyTypes/"

// Type is one compiled, valid version of a journey type. It is immutable
// and safe for concurrent use.
type Type struct {
	def       *handoffv1.JourneyType
	id        string
	steps     []step
	stepIndex map[string]int
	stepIDs   []string
	sensitive []string
	ttl       time.Duration
	// remindBefore is set when remindSet (docs/reach.md).
	remindBefore time.Duration
	remindSet    bool
}

type step struct {
	id      string
	next    []string
	answers []answer
	byKey   map[string]int
}

type answer struct {
	key       string
	isSelect  bool
	sensitive bool
	keepLast  int
	schema    *jsonschema.Schema // nil: any value
	label     map[string]string
}

// ID is the type's name without "journeyTypes/", e.g. "car-insurance-quote".
func (t *Type) ID() string { return t.id }

// Version is the version of the definition the type was compiled from.
func (t *Type) Version() int64 { return t.def.GetVersion() }

// Definition returns the definition the type was compiled from. Callers
// must not modify it: the type shares it.
func (t *Type) Definition() *handoffv1.JourneyType { return t.def }

// FirstStep is where a journey of this type starts.
func (t *Type) FirstStep() string { return t.steps[0].id }

// StepIDs are the declared steps' ids in order. Callers must not modify
// them: the type shares them.
func (t *Type) StepIDs() []string { return t.stepIDs }

// HasStep reports whether the type declares the step id.
func (t *Type) HasStep(id string) bool {
	_, ok := t.stepIndex[id]
	return ok
}

// StepsFrom returns the steps from which a journey may move to target:
// target itself (staying), every step whose next lists target (or, when
// its next is empty, the step just before target), and every step after
// target (going back is always allowed), in step order. It returns nil
// when target is not declared.
func (t *Type) StepsFrom(target string) []string {
	ti, ok := t.stepIndex[target]
	if !ok {
		return nil
	}
	var from []string
	for i, s := range t.steps {
		allowed := i >= ti ||
			slices.Contains(s.next, target) ||
			(len(s.next) == 0 && i == ti-1)
		if allowed {
			from = append(from, s.id)
		}
	}
	return from
}

// Sensitive reports whether the answer at the leaf path "<step>.<key>" is
// sensitive, and how many of its trailing characters stay readable.
func (t *Type) Sensitive(path string) (keepLast int, ok bool) {
	a := t.answerAt(path)
	if a == nil || !a.sensitive {
		return 0, false
	}
	return a.keepLast, true
}

// SensitivePaths lists the "<step>.<key>" of every sensitive answer, in
// step order. The slice is a copy.
func (t *Type) SensitivePaths() []string { return slices.Clone(t.sensitive) }

// Label is the label of the answer at the leaf path "<step>.<key>", by
// language; nil for an answer the type does not declare.
func (t *Type) Label(path string) map[string]string {
	if a := t.answerAt(path); a != nil {
		return a.label
	}
	return nil
}

// IdentityChecks are the answers an identity's step-up check may ask, in
// order of preference (each a declared answer, see Compile).
func (t *Type) IdentityChecks() []string { return t.def.GetIdentityChecks() }

// TTL is how long a journey of this type lives after its last touch; 0
// when the type does not say, and the server's default applies.
func (t *Type) TTL() time.Duration { return t.ttl }

// RemindBefore is how long before a journey of this type expires it is
// reminded (0: never), and whether the type says; when it does not, the
// server's --remind-before applies.
func (t *Type) RemindBefore() (time.Duration, bool) { return t.remindBefore, t.remindSet }

func (t *Type) answerAt(path string) *answer {
	stepID, key, ok := strings.Cut(path, ".")
	if !ok {
		return nil
	}
	si, ok := t.stepIndex[stepID]
	if !ok {
		return nil
	}
	s := &t.steps[si]
	ai, ok := s.byKey[key]
	if !ok {
		return nil
	}
	return &s.answers[ai]
}
