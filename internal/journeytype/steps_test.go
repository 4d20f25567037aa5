package journeytype_test

import (
	"slices"
	"testing"
)

func TestStepsFrom(t *testing.T) {
	typ := mustCompile(t, `
name: journeyTypes/steps
steps:
  - id: start
  - id: details
    next: [summary] # skips extra
  - id: extra
  - id: summary
`)
	tests := []struct {
		name, target string
		want         []string
	}{
		{"the step before by default, itself and every later step", "details", []string{"start", "details", "extra", "summary"}},
		{"not the step before when its next leads elsewhere", "extra", []string{"extra", "summary"}},
		{"a step whose next lists the target, and the one before by default", "summary", []string{"details", "extra", "summary"}},
		{"every step back to the first", "start", []string{"start", "details", "extra", "summary"}},
		{"nothing for an undeclared step", "nowhere", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := typ.StepsFrom(tt.target); !slices.Equal(got, tt.want) {
				t.Fatalf("StepsFrom(%q) = %q; want %q", tt.target, got, tt.want)
			}
		})
	}
	if got := typ.StepsFrom("nowhere"); got != nil {
		t.Errorf("StepsFrom(nowhere) = %#v; want nil", got)
	}
}

func TestStepsFromAnExplicitNextThatGoesBack(t *testing.T) {
	typ := mustCompile(t, `
name: journeyTypes/loop
steps:
  - id: a
  - id: b
    next: [d]
  - id: c
  - id: d
    next: [b]
  - id: e
`)
	// d lists b and is later anyway; c leads to d by default; e is after.
	if got, want := typ.StepsFrom("d"), []string{"b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("StepsFrom(d) = %q; want %q", got, want)
	}
	// d's explicit next replaces its default (e), so only e itself reaches e.
	if got, want := typ.StepsFrom("e"), []string{"e"}; !slices.Equal(got, want) {
		t.Errorf("StepsFrom(e) = %q; want %q", got, want)
	}
}

func TestHasStepAndFirstStep(t *testing.T) {
	typ := mustCompile(t, testType)
	if typ.FirstStep() != "vehicle" {
		t.Errorf("FirstStep() = %q; want vehicle", typ.FirstStep())
	}
	for id, want := range map[string]bool{"vehicle": true, "done": true, "Vehicle": false, "": false, "vehicle.plate": false} {
		if got := typ.HasStep(id); got != want {
			t.Errorf("HasStep(%q) = %v; want %v", id, got, want)
		}
	}
}
