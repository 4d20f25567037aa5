package journeytype

import (
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
)

// Violation is one reason a save may not write what it writes. Path is
// the answer path relative to the journey's data ("vehicle.plate", or
// "vehicle" or "" for a whole step or the whole data); Reason never
// quotes the value.
type Violation struct {
	Path   string
	Reason string
}

// CheckAnswer checks a value a save writes at path, relative to the
// journey's data: "" (the whole data, an object of steps), a step id (an
// object of that step's declared answers), or "<step>.<key>" (one declared
// answer, checked against its schema). Deeper paths and undeclared steps
// or keys are violations. A nil v is a removal, which is always allowed.
// Violations come in step and answer order.
func (t *Type) CheckAnswer(path string, v *structpb.Value) []Violation {
	if v == nil {
		return nil
	}
	if path == "" {
		return t.checkData(v)
	}
	parts := strings.Split(path, ".")
	si, ok := t.stepIndex[parts[0]]
	if !ok {
		return []Violation{{path, "names no declared step: " + t.stepList()}}
	}
	s := &t.steps[si]
	if len(parts) == 1 {
		return s.checkStep(v)
	}
	ai, ok := s.byKey[parts[1]]
	if !ok {
		return []Violation{{path, "names no declared answer of step " + s.id + ": " + s.keyList()}}
	}
	if len(parts) > 2 {
		return []Violation{{path, "reaches inside an answer: write " + s.id + "." + parts[1] + " whole"}}
	}
	return s.answers[ai].violations(path, v)
}

func (t *Type) checkData(v *structpb.Value) []Violation {
	data := v.GetStructValue()
	if data == nil {
		return []Violation{{"", "must be an object of steps: " + t.stepList()}}
	}
	var out []Violation
	for _, s := range t.steps {
		if sv, ok := data.GetFields()[s.id]; ok {
			out = append(out, s.checkStep(sv)...)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(data.GetFields())) {
		if _, ok := t.stepIndex[name]; !ok {
			out = append(out, Violation{name, "names no declared step: " + t.stepList()})
		}
	}
	return out
}

func (s *step) checkStep(v *structpb.Value) []Violation {
	obj := v.GetStructValue()
	if obj == nil {
		return []Violation{{s.id, "must be an object of the step's answers: " + s.keyList()}}
	}
	var out []Violation
	for _, a := range s.answers {
		if av, ok := obj.GetFields()[a.key]; ok {
			out = append(out, a.violations(s.id+"."+a.key, av)...)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(obj.GetFields())) {
		if _, ok := s.byKey[key]; !ok {
			out = append(out, Violation{s.id + "." + key, "names no declared answer of step " + s.id + ": " + s.keyList()})
		}
	}
	return out
}

func (a *answer) violations(path string, v *structpb.Value) []Violation {
	var out []Violation
	for _, reason := range a.check(v) {
		out = append(out, Violation{path, reason})
	}
	return out
}

func (t *Type) stepList() string {
	ids := make([]string, len(t.steps))
	for i, s := range t.steps {
		ids[i] = s.id
	}
	return "the steps are " + strings.Join(ids, ", ")
}

func (s *step) keyList() string {
	if len(s.answers) == 0 {
		return "it declares none"
	}
	keys := make([]string, len(s.answers))
	for i, a := range s.answers {
		keys[i] = a.key
	}
	return "it declares " + strings.Join(keys, ", ")
}
