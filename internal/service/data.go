package service

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// checkData refuses answers that could hurt or could not be saved and read
// back as they were sent: too large, nested too deep, too many keys, too
// long a string, a number JSON cannot carry, or a key a save path cannot
// name (empty, or containing the path separator ".").
func (s *Service) checkData(data *structpb.Struct, field string) error {
	if size := proto.Size(data); size > s.opts.MaxDataBytes {
		return invalidArgument(field, "answers take "+byteSize(size)+", more than the limit of "+byteSize(s.opts.MaxDataBytes))
	}
	w := dataWalk{opts: s.opts, field: field}
	return w.object(data, 1)
}

type dataWalk struct {
	opts  Options
	field string
	keys  int
}

func (w *dataWalk) object(data *structpb.Struct, depth int) error {
	if depth > w.opts.MaxDataDepth {
		return invalidArgument(w.field, "answers nest deeper than "+strconv.Itoa(w.opts.MaxDataDepth)+" levels")
	}
	w.keys += len(data.GetFields())
	if w.keys > w.opts.MaxDataKeys {
		return invalidArgument(w.field, "answers hold more than "+strconv.Itoa(w.opts.MaxDataKeys)+" keys")
	}
	for k, v := range data.GetFields() {
		if k == "" || strings.Contains(k, ".") {
			return invalidArgument(w.field, "answer key "+strconv.Quote(k)+" cannot be saved: keys must be non-empty and without '.'")
		}
		if err := w.value(v, depth); err != nil {
			return err
		}
	}
	return nil
}

func (w *dataWalk) value(v *structpb.Value, depth int) error {
	switch v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		// JSON has no NaN or Infinity: such an answer could never be read
		// back over REST.
		if n := v.GetNumberValue(); math.IsNaN(n) || math.IsInf(n, 0) {
			return invalidArgument(w.field, "answers must be finite numbers, not NaN or Infinity")
		}
	case *structpb.Value_StringValue:
		if s := v.GetStringValue(); len(s) > w.opts.MaxStringBytes {
			return invalidArgument(w.field, "an answer is longer than "+byteSize(w.opts.MaxStringBytes))
		} else if !utf8.ValidString(s) {
			return invalidArgument(w.field, "an answer is not valid UTF-8")
		}
	case *structpb.Value_StructValue:
		return w.object(v.GetStructValue(), depth+1)
	case *structpb.Value_ListValue:
		if depth+1 > w.opts.MaxDataDepth {
			return invalidArgument(w.field, "answers nest deeper than "+strconv.Itoa(w.opts.MaxDataDepth)+" levels")
		}
		for _, item := range v.GetListValue().GetValues() {
			if err := w.value(item, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
