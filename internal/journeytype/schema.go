package journeytype

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"google.golang.org/protobuf/types/known/structpb"
)

// draft2020 is the one dialect a schema may declare: the others differ in
// what they assert (draft-07 checks formats, for one), which would surprise
// whoever reads the definition as 2020-12.
const draft2020 = "https://json-schema.org/draft/2020-12/schema"

// schemaBase names each answer's schema for the compiler; the .invalid
// domain can never resolve, should anything ever try.
const schemaBase = "https://journey-types.invalid/"

// refuseLoading is the compiler's loader: a schema must be whole in itself.
// Loading a $ref from the network or the disk would make what a save may
// hold depend on what is out there, and let a definition read the
// server's files.
type refuseLoading struct{}

func (refuseLoading) Load(string) (any, error) {
	return nil, errors.New("schemas may not load anything: keep every $ref inside the schema (#/$defs/...)")
}

func compileSchema(stepID, key string, s *structpb.Struct) (*jsonschema.Schema, error) {
	doc, err := toJSON(structpb.NewStructValue(s))
	if err != nil {
		return nil, err
	}
	if dialect, ok := doc.(map[string]any)["$schema"]; ok && strings.TrimSuffix(fmt.Sprint(dialect), "#") != draft2020 {
		return nil, fmt.Errorf("$schema must be %s or absent", draft2020)
	}
	loc := schemaBase + url.PathEscape(stepID) + "/" + url.PathEscape(key) + ".json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoading{})
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, errors.New(compileProblem(err, loc))
	}
	return sch, nil
}

// compileProblem says in one line what is wrong with a schema. Unlike a
// refused answer, a schema is the definition's own text, so the library's
// messages may quote it; only its multi-line layout and the made-up
// location are dropped.
func compileProblem(err error, loc string) string {
	var msg string
	var invalid *jsonschema.SchemaValidationError
	var verr *jsonschema.ValidationError
	if errors.As(err, &invalid) && errors.As(invalid.Err, &verr) {
		var problems []string
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			switch e.ErrorKind.(type) {
			case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf, *kind.AnyOf, *kind.OneOf:
				for _, cause := range e.Causes {
					walk(cause)
				}
				return
			}
			leaf := *e
			leaf.Causes = nil
			problems = append(problems, leaf.Error())
		}
		walk(verr)
		msg = "it is not JSON Schema 2020-12: " + strings.Join(problems, " and ")
	} else {
		msg = err.Error()
	}
	msg = strings.ReplaceAll(msg, loc, "")
	msg = strings.ReplaceAll(msg, loc[:strings.LastIndex(loc, "/")+1], "")
	return strings.Join(strings.Fields(msg), " ")
}

var errNotFinite = errors.New("must be a finite number")

// toJSON turns a protobuf value into what the schema library validates.
// Numbers become json.Number, as the library's own decoder makes them, so
// that 2020 is an integer and no precision is lost on the way.
func toJSON(v *structpb.Value) (any, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return k.StringValue, nil
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return nil, errNotFinite
		}
		return json.Number(strconv.FormatFloat(k.NumberValue, 'g', -1, 64)), nil
	case *structpb.Value_BoolValue:
		return k.BoolValue, nil
	case *structpb.Value_StructValue:
		obj := make(map[string]any, len(k.StructValue.GetFields()))
		for name, field := range k.StructValue.GetFields() {
			j, err := toJSON(field)
			if err != nil {
				return nil, err
			}
			obj[name] = j
		}
		return obj, nil
	case *structpb.Value_ListValue:
		arr := make([]any, len(k.ListValue.GetValues()))
		for i, item := range k.ListValue.GetValues() {
			j, err := toJSON(item)
			if err != nil {
				return nil, err
			}
			arr[i] = j
		}
		return arr, nil
	default: // null, or a value with no kind set, which protobuf reads as null
		return nil, nil
	}
}

// check validates v against the answer's schema and returns why it does
// not fit, without quoting it.
func (a *answer) check(v *structpb.Value) []string {
	if a.schema == nil {
		return nil
	}
	inst, err := toJSON(v)
	if err != nil {
		return []string{err.Error()}
	}
	err = a.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []string{"cannot be checked against the schema"}
	}
	return reasonsFor(verr, a.isSelect)
}
