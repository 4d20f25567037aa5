package service

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
)

// checkData refuses answers that could hurt or could not be saved and read
// back as they were sent: too large, nested too deep, too many keys, too
// long a string, a number JSON cannot carry, a key a save path cannot
// name (empty, or containing the path separator "."), or a value with no
// kind (what gRPC's `value {}` decodes to; JSON has no spelling for it, so
// the journey could not be read over REST).
func (s *Service) checkData(data *structpb.Struct, field string) error {
	if size := proto.Size(data); size > s.opts.MaxDataBytes {
		return invalidArgument(field, "ANSWERS_TOO_LARGE", "answers take "+byteSize(size)+", more than the limit of "+byteSize(s.opts.MaxDataBytes))
	}
	w := dataWalk{opts: s.opts, field: field}
	err := w.object(data, 1)
	var none *noValue
	if errors.As(err, &none) {
		// The path, never the answers: refusals reach the logs.
		return invalidArgument(field, "ANSWER_WITHOUT_VALUE", "answer "+strconv.Quote(none.path())+" has no value: send a string, number, boolean, null, object or list")
	}
	return err
}

// checkTotals refuses a new journey's answers past the limits a store
// keeps for every journey (store.AnswerLimits): how many answers (leaves),
// and how many bytes of paths and JSON. Saves are checked by the store as
// it writes; a create's answers are all it will hold.
func (s *Service) checkTotals(data *structpb.Struct, field string) error {
	leaves := answers.Leaves(data)
	if len(leaves) > s.opts.MaxDataKeys {
		return invalidArgument(field, "TOO_MANY_ANSWERS", "the journey would hold "+strconv.Itoa(len(leaves))+" answers, more than the limit of "+strconv.Itoa(s.opts.MaxDataKeys))
	}
	total := 0
	for _, l := range leaves {
		js, err := answers.EncodeJSON(l.Value)
		if err != nil {
			return invalidArgument(field, "ANSWER_NOT_JSON", "answer "+strconv.Quote(l.Path)+" cannot be written as JSON")
		}
		total += store.AnswerSize(l.Path, js)
	}
	if total > s.opts.MaxDataBytes {
		return invalidArgument(field, "ANSWERS_TOO_LARGE", "answers would take "+byteSize(total)+", more than the limit of "+byteSize(s.opts.MaxDataBytes))
	}
	return nil
}

type dataWalk struct {
	opts  Options
	field string
	keys  int
}

func (w *dataWalk) object(data *structpb.Struct, depth int) error {
	if depth > w.opts.MaxDataDepth {
		return invalidArgument(w.field, "ANSWERS_TOO_DEEP", "answers nest deeper than "+strconv.Itoa(w.opts.MaxDataDepth)+" levels")
	}
	w.keys += len(data.GetFields())
	if w.keys > w.opts.MaxDataKeys {
		return invalidArgument(w.field, "TOO_MANY_ANSWERS", "answers hold more than "+strconv.Itoa(w.opts.MaxDataKeys)+" keys")
	}
	for k, v := range data.GetFields() {
		if k == "" || strings.Contains(k, ".") {
			return invalidArgument(w.field, "INVALID_ANSWER_KEY", "answer key "+strconv.Quote(k)+" cannot be saved: keys must be non-empty and without '.'")
		}
		if err := w.value(v, depth); err != nil {
			return within(err, pathStep{key: k})
		}
	}
	return nil
}

func (w *dataWalk) value(v *structpb.Value, depth int) error {
	switch v.GetKind().(type) {
	case nil: // gRPC's `value {}`, here or as a list item (see checkData)
		return &noValue{}
	case *structpb.Value_NumberValue:
		// JSON has no NaN or Infinity: such an answer could never be read
		// back over REST.
		if n := v.GetNumberValue(); math.IsNaN(n) || math.IsInf(n, 0) {
			return invalidArgument(w.field, "ANSWER_NOT_FINITE", "answers must be finite numbers, not NaN or Infinity")
		}
	case *structpb.Value_StringValue:
		if s := v.GetStringValue(); len(s) > w.opts.MaxStringBytes {
			return invalidArgument(w.field, "ANSWER_TOO_LONG", "an answer is longer than "+byteSize(w.opts.MaxStringBytes))
		} else if !utf8.ValidString(s) {
			return invalidArgument(w.field, "ANSWER_NOT_UTF8", "an answer is not valid UTF-8")
		}
	case *structpb.Value_StructValue:
		return w.object(v.GetStructValue(), depth+1)
	case *structpb.Value_ListValue:
		if depth+1 > w.opts.MaxDataDepth {
			return invalidArgument(w.field, "ANSWERS_TOO_DEEP", "answers nest deeper than "+strconv.Itoa(w.opts.MaxDataDepth)+" levels")
		}
		for i, item := range v.GetListValue().GetValues() {
			if err := w.value(item, depth+1); err != nil {
				return within(err, pathStep{index: i, inList: true})
			}
		}
	}
	return nil
}

// noValue is how the walk reports a value with no kind. Each level adds its
// step on the way back up, so a path is built only for a refusal, never for
// the answers that pass.
type noValue struct {
	steps []pathStep // innermost first
}

// pathStep is an answer's key, or an item's position in a list.
type pathStep struct {
	key    string
	index  int
	inList bool
}

func (e *noValue) Error() string { return "answer " + e.path() + " has no value" }

// path names the answer as a person reads it: vehicle.colours[1].
func (e *noValue) path() string {
	var b strings.Builder
	for i := len(e.steps) - 1; i >= 0; i-- {
		switch st := e.steps[i]; {
		case st.inList:
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + st.key)
		default:
			b.WriteString(st.key)
		}
	}
	return b.String()
}

// within adds step to the path of a noValue; other errors pass unchanged.
func within(err error, step pathStep) error {
	if none, ok := err.(*noValue); ok {
		none.steps = append(none.steps, step)
	}
	return err
}
