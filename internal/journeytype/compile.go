package journeytype

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

var (
	namePattern = regexp.MustCompile(`^journeyTypes/[a-z][a-z0-9-]{0,62}$`)
	// A dot in a step id or answer key would let two answers share a path.
	idPattern       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
)

// kinds are the ways a form may ask an answer; "" means text.
var kinds = []string{"text", "textarea", "number", "date", "email", "tel", "select", "checkbox"}

const (
	kindText   = "text"
	kindSelect = "select"

	maxKeepLast = 8
	minTTL      = time.Minute
	maxTTL      = 400 * 24 * time.Hour
)

// InvalidError lists everything that is wrong with a definition, so its
// author can fix it in one go.
type InvalidError struct {
	Type    string // the type's id as the definition names it (may itself be invalid)
	Reasons []string
}

func (e *InvalidError) Error() string {
	return "journey type " + strconv.Quote(e.Type) + " is invalid: " + strings.Join(e.Reasons, "; ")
}

// Compile checks a definition and compiles its schemas. When anything is
// wrong it returns an *InvalidError with every reason. The definition is
// copied, so the caller may reuse its own.
func Compile(def *handoffv1.JourneyType) (*Type, error) {
	if def == nil {
		return nil, &InvalidError{Reasons: []string{"the definition is missing"}}
	}
	def = proto.Clone(def).(*handoffv1.JourneyType)
	c := &compiler{t: &Type{
		def:       def,
		id:        strings.TrimPrefix(def.GetName(), NamePrefix),
		steps:     make([]step, len(def.GetSteps())),
		stepIndex: map[string]int{},
	}}
	c.checkName(def.GetName())
	c.checkLanguages("title", def.GetTitle())
	c.checkTTL(def.GetTtl())
	c.checkRemindBefore(def.GetRemindBefore())
	if len(def.GetSteps()) == 0 {
		c.refuse("declares no steps: a journey type needs at least one")
	}
	// Step ids first, so next may name a step declared further down.
	for i, s := range def.GetSteps() {
		c.declareStep(i, s.GetId())
	}
	for i, s := range def.GetSteps() {
		c.compileStep(i, s)
	}
	c.checkIdentityChecks(def.GetIdentityChecks())
	if len(c.reasons) > 0 {
		return nil, &InvalidError{Type: c.t.id, Reasons: c.reasons}
	}
	return c.t, nil
}

type compiler struct {
	t       *Type
	reasons []string
}

func (c *compiler) refuse(format string, args ...any) {
	c.reasons = append(c.reasons, fmt.Sprintf(format, args...))
}

func (c *compiler) checkName(name string) {
	switch {
	case name == "":
		c.refuse("name is missing: write it as journeyTypes/{id}, e.g. journeyTypes/car-insurance-quote")
	case !namePattern.MatchString(name):
		c.refuse("name %q must match %s (a definition names no @version)", name, namePattern)
	}
}

func (c *compiler) checkLanguages(where string, texts map[string]string) {
	for _, lang := range slices.Sorted(maps.Keys(texts)) {
		if !languagePattern.MatchString(lang) {
			c.refuse("%s has the language %q, which must match %s (e.g. en, nl, pt-BR)", where, lang, languagePattern)
		}
	}
}

func (c *compiler) checkTTL(ttl *durationpb.Duration) {
	if ttl == nil {
		return
	}
	if err := ttl.CheckValid(); err != nil {
		c.refuse("ttl is not a valid duration")
		return
	}
	d := ttl.AsDuration()
	if d < minTTL || d > maxTTL {
		c.refuse("ttl must be between 1 minute and 400 days, not %s", d)
		return
	}
	c.t.ttl = d
}

func (c *compiler) checkRemindBefore(d *durationpb.Duration) {
	if d == nil {
		return
	}
	if err := d.CheckValid(); err != nil || d.AsDuration() < 0 {
		c.refuse("remind_before is not a duration of 0 (never) or more")
		return
	}
	// Reminding at or before a journey's start would remind every one.
	if c.t.ttl > 0 && d.AsDuration() >= c.t.ttl {
		c.refuse("remind_before (%s) must be shorter than ttl (%s)", d.AsDuration(), c.t.ttl)
		return
	}
	c.t.remindBefore, c.t.remindSet = d.AsDuration(), true
}

func (c *compiler) declareStep(i int, id string) {
	c.t.steps[i] = step{id: id, byKey: map[string]int{}}
	switch {
	case id == "":
		c.refuse("steps[%d] has no id", i)
		return
	case !idPattern.MatchString(id):
		c.refuse("steps[%d] has the id %q, which must match %s", i, id, idPattern)
		return
	}
	if first, dup := c.t.stepIndex[id]; dup {
		c.refuse("step %q is declared twice (steps[%d] and steps[%d])", id, first, i)
		return
	}
	c.t.stepIndex[id] = i
	c.t.stepIDs = append(c.t.stepIDs, id)
}

func (c *compiler) compileStep(i int, def *handoffv1.JourneyStep) {
	where := stepWhere(i, def.GetId())
	c.checkLanguages(where+" label", def.GetLabel())
	c.checkLanguages(where+" help", def.GetHelp())
	for _, next := range def.GetNext() {
		switch _, declared := c.t.stepIndex[next]; {
		case next == def.GetId():
			c.refuse("%s lists itself in next (staying is always allowed)", where)
		case !declared:
			c.refuse("%s lists %q in next, which is not a declared step", where, next)
		}
	}
	s := &c.t.steps[i]
	s.next = def.GetNext()
	for j, a := range def.GetAnswers() {
		c.compileAnswer(s, where, j, a)
	}
}

func stepWhere(i int, id string) string {
	if idPattern.MatchString(id) {
		return fmt.Sprintf("step %q", id)
	}
	return fmt.Sprintf("steps[%d]", i)
}

func (c *compiler) compileAnswer(s *step, stepWhere string, j int, def *handoffv1.AnswerDefinition) {
	key := def.GetKey()
	where := fmt.Sprintf("%s answers[%d]", stepWhere, j)
	switch {
	case key == "":
		c.refuse("%s has no key", where)
	case !idPattern.MatchString(key):
		c.refuse("%s has the key %q, which must match %s", where, key, idPattern)
	default:
		where = fmt.Sprintf("%s answer %q", stepWhere, key)
		if _, dup := s.byKey[key]; dup {
			c.refuse("%s is declared twice", where)
		} else {
			s.byKey[key] = len(s.answers)
		}
	}
	a := answer{
		key:       key,
		isSelect:  def.GetKind() == kindSelect,
		sensitive: def.GetSensitive(),
		keepLast:  int(def.GetMaskKeepLast()),
		label:     def.GetLabel(),
	}
	c.checkLanguages(where+" label", def.GetLabel())
	c.checkLanguages(where+" help", def.GetHelp())
	c.checkKind(where, def)
	c.checkMask(where, def)
	if def.GetSchema() != nil {
		sch, err := compileSchema(s.id, key, def.GetSchema())
		if err != nil {
			c.refuse("%s schema does not compile: %v", where, err)
		}
		a.schema = sch
	}
	for k, opt := range def.GetOptions() {
		c.checkLanguages(fmt.Sprintf("%s options[%d] label", where, k), opt.GetLabel())
		switch {
		case opt.GetValue() == nil:
			c.refuse("%s options[%d] has no value", where, k)
		case a.schema != nil:
			if reasons := a.check(opt.GetValue()); len(reasons) > 0 {
				c.refuse("%s options[%d] does not fit the answer's schema: %s", where, k, strings.Join(reasons, ", "))
			}
		}
	}
	s.answers = append(s.answers, a)
	if a.sensitive {
		c.t.sensitive = append(c.t.sensitive, s.id+"."+key)
	}
}

func (c *compiler) checkKind(where string, def *handoffv1.AnswerDefinition) {
	kind := def.GetKind()
	if kind == "" {
		kind = kindText
	}
	if !slices.Contains(kinds, kind) {
		c.refuse("%s has the kind %q, which is not one of %s", where, kind, strings.Join(kinds, ", "))
	}
	switch {
	case kind == kindSelect && len(def.GetOptions()) == 0:
		c.refuse("%s is a select without options", where)
	case kind != kindSelect && len(def.GetOptions()) > 0:
		c.refuse("%s has options, which only a select may have", where)
	}
}

func (c *compiler) checkMask(where string, def *handoffv1.AnswerDefinition) {
	keep := def.GetMaskKeepLast()
	if keep != 0 && !def.GetSensitive() {
		c.refuse("%s sets maskKeepLast, which only a sensitive answer may", where)
	}
	if keep < 0 || keep > maxKeepLast {
		c.refuse("%s maskKeepLast must be between 0 and %d, not %d", where, maxKeepLast, keep)
	}
}

// checkIdentityChecks refuses a check that names no declared answer: it
// could never be asked, and an identity's journeys would open to nobody.
func (c *compiler) checkIdentityChecks(paths []string) {
	seen := map[string]bool{}
	for i, path := range paths {
		switch {
		case seen[path]:
			c.refuse("identityChecks[%d] lists %q twice", i, path)
		case c.t.answerAt(path) == nil:
			c.refuse("identityChecks[%d] names %q, which is not a declared answer (<step>.<key>)", i, path)
		}
		seen[path] = true
	}
}
