package journeytype_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestCheckAnswerAccepts(t *testing.T) {
	typ := mustCompile(t, testType)
	tests := []struct {
		name, path, js string
	}{
		{"an answer that fits its schema", "vehicle.plate", `"AB-123-C"`},
		{"an integer written as a JSON number", "vehicle.year", `2020`},
		{"an integer written with a fraction of zero", "vehicle.year", `2020.0`},
		{"one of a select's options", "vehicle.level", `"full"`},
		{"anything for an answer without a schema", "vehicle.notes", `{"free": ["form", 1, null]}`},
		{"an object that fits its schema", "payment.address", `{"street": "Damrak", "number": 1}`},
		{"a whole step of declared answers", "vehicle", `{"plate": "AB-123-C", "year": 1999}`},
		{"an empty step", "done", `{}`},
		{"the whole data", "", `{"vehicle": {"plate": "AB-123-C"}, "payment": {"iban": "NL91ABNA0417164300"}}`},
		{"empty data", "", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := typ.CheckAnswer(tt.path, value(t, tt.js)); got != nil {
				t.Fatalf("CheckAnswer(%q, %s) = %v; want none", tt.path, tt.js, got)
			}
		})
	}
	t.Run("a removal", func(t *testing.T) {
		if got := typ.CheckAnswer("vehicle.plate", nil); got != nil {
			t.Fatalf("CheckAnswer(vehicle.plate, nil) = %v; want none", got)
		}
	})
}

func TestCheckAnswerRefuses(t *testing.T) {
	typ := mustCompile(t, testType)
	tests := []struct {
		name, path, js string
		want           []journeytype.Violation
	}{
		{"an undeclared step", "trailer", `{"length": 4}`, []journeytype.Violation{
			{"trailer", "names no declared step: the steps are vehicle, payment, done"}}},
		{"an undeclared answer", "vehicle.colour", `"red"`, []journeytype.Violation{
			{"vehicle.colour", "names no declared answer of step vehicle: it declares plate, year, level, notes"}}},
		{"a path inside an answer", "payment.address.street", `"Damrak"`, []journeytype.Violation{
			{"payment.address.street", "reaches inside an answer: write payment.address whole"}}},
		{"a path inside an undeclared step", "trailer.length", `4`, []journeytype.Violation{
			{"trailer.length", "names no declared step: the steps are vehicle, payment, done"}}},
		{"a string that is too short", "vehicle.plate", `"A"`, []journeytype.Violation{
			{"vehicle.plate", "must be at least 2 characters"}}},
		{"a string that breaks two rules", "vehicle.plate", `"ab-123-c-too-long"`, []journeytype.Violation{
			{"vehicle.plate", "must be at most 12 characters"},
			{"vehicle.plate", "must match the pattern ^[A-Z0-9-]+$"}}},
		{"a number below the minimum", "vehicle.year", `1949`, []journeytype.Violation{
			{"vehicle.year", "must be at least 1950"}}},
		{"a fraction where an integer is wanted", "vehicle.year", `2020.5`, []journeytype.Violation{
			{"vehicle.year", "must be an integer"}}},
		{"a string where an integer is wanted", "vehicle.year", `"2020"`, []journeytype.Violation{
			{"vehicle.year", "must be an integer"}}},
		{"a value that is not an option", "vehicle.level", `"gold"`, []journeytype.Violation{
			{"vehicle.level", "must be one of the declared options"}}},
		{"an object that breaks its schema", "payment.address", `{"number": 0, "city": "Amsterdam"}`, []journeytype.Violation{
			{"payment.address", `must be at least 1 (schema /properties/number)`},
			{"payment.address", `must have "street"`},
			{"payment.address", "must not have properties the schema does not allow"}}},
		{"a step that is not an object", "vehicle", `"AB-123-C"`, []journeytype.Violation{
			{"vehicle", "must be an object of the step's answers: it declares plate, year, level, notes"}}},
		{"data that is not an object", "", `[]`, []journeytype.Violation{
			{"", "must be an object of steps: the steps are vehicle, payment, done"}}},
		{"every problem of a whole step, in answer order", "vehicle", `{"year": 1, "plate": "A", "colour": "red", "axles": 2}`, []journeytype.Violation{
			{"vehicle.plate", "must be at least 2 characters"},
			{"vehicle.year", "must be at least 1950"},
			{"vehicle.axles", "names no declared answer of step vehicle: it declares plate, year, level, notes"},
			{"vehicle.colour", "names no declared answer of step vehicle: it declares plate, year, level, notes"}}},
		{"every problem of the whole data, in step order", "", `{"trailer": {}, "payment": {"iban": "x"}, "vehicle": {"year": 1}, "done": 1}`, []journeytype.Violation{
			{"vehicle.year", "must be at least 1950"},
			{"payment.iban", "must match the pattern ^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$"},
			{"done", "must be an object of the step's answers: it declares none"},
			{"trailer", "names no declared step: the steps are vehicle, payment, done"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := typ.CheckAnswer(tt.path, value(t, tt.js))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("CheckAnswer(%q, %s) =\n%q\nwant\n%q", tt.path, tt.js, got, tt.want)
			}
		})
	}
	t.Run("a number that is not finite", func(t *testing.T) {
		got := typ.CheckAnswer("vehicle.year", structpb.NewNumberValue(math.Inf(1)))
		want := []journeytype.Violation{{"vehicle.year", "must be a finite number"}}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// The reasons go back to callers and into logs; answers may be personal
// data, so no reason may repeat what was refused.
func TestCheckAnswerNeverQuotesTheValue(t *testing.T) {
	const secret = "SECRET-VALUE-123"
	keywords := []struct {
		name, schema, value string
	}{
		{"pattern", `{"pattern": "^[0-9]+$"}`, `"SECRET-VALUE-123"`},
		{"maxLength", `{"maxLength": 3}`, `"SECRET-VALUE-123"`},
		{"minLength", `{"minLength": 30}`, `"SECRET-VALUE-123"`},
		{"type", `{"type": "integer"}`, `"SECRET-VALUE-123"`},
		{"enum", `{"enum": ["a", "b"]}`, `"SECRET-VALUE-123"`},
		{"const", `{"const": "a"}`, `"SECRET-VALUE-123"`},
		{"format", `{"format": "email"}`, `"SECRET-VALUE-123"`}, // not asserted in 2020-12, so no violation at all
		{"not", `{"not": {"type": "string"}}`, `"SECRET-VALUE-123"`},
		{"anyOf", `{"anyOf": [{"type": "integer"}, {"maxLength": 2}]}`, `"SECRET-VALUE-123"`},
		{"oneOf", `{"oneOf": [{"type": "string"}, {"minLength": 1}]}`, `"SECRET-VALUE-123"`},
		{"allOf", `{"allOf": [{"pattern": "^x"}]}`, `"SECRET-VALUE-123"`},
		{"if then", `{"if": {"type": "string"}, "then": {"pattern": "^x"}}`, `"SECRET-VALUE-123"`},
		{"$ref", `{"$defs": {"d": {"pattern": "^x"}}, "$ref": "#/$defs/d"}`, `"SECRET-VALUE-123"`},
		{"minimum", `{"minimum": 1000}`, `123.456`},
		{"multipleOf", `{"multipleOf": 7}`, `123.456`},
		{"additionalProperties", `{"additionalProperties": false}`, `{"SECRET-VALUE-123": "SECRET-VALUE-123"}`},
		{"additionalProperties schema", `{"additionalProperties": {"type": "integer"}}`, `{"SECRET-VALUE-123": "SECRET-VALUE-123"}`},
		{"patternProperties", `{"patternProperties": {"^S": {"maxLength": 1}}}`, `{"SECRET-VALUE-123": "SECRET-VALUE-123"}`},
		{"propertyNames", `{"propertyNames": {"maxLength": 3}}`, `{"SECRET-VALUE-123": 1}`},
		{"required", `{"required": ["a"]}`, `{"SECRET-VALUE-123": 1}`},
		{"dependentRequired", `{"dependentRequired": {"a": ["b"]}}`, `{"a": "SECRET-VALUE-123"}`},
		{"items", `{"items": {"maxLength": 3}}`, `["SECRET-VALUE-123"]`},
		{"uniqueItems", `{"uniqueItems": true}`, `["SECRET-VALUE-123", "SECRET-VALUE-123"]`},
		{"contains", `{"contains": {"type": "integer"}}`, `["SECRET-VALUE-123"]`},
		{"unevaluatedProperties", `{"unevaluatedProperties": false}`, `{"SECRET-VALUE-123": 1}`},
	}
	var def strings.Builder
	def.WriteString("name: journeyTypes/leaks\nsteps:\n  - id: s\n    answers:\n")
	for i, k := range keywords {
		fmt.Fprintf(&def, "      - key: k%d\n        schema: %s\n", i, k.schema)
	}
	typ := mustCompile(t, def.String())

	for i, k := range keywords {
		t.Run(k.name, func(t *testing.T) {
			path := fmt.Sprintf("s.k%d", i)
			got := typ.CheckAnswer(path, value(t, k.value))
			if k.name != "format" && len(got) == 0 {
				t.Fatalf("%s = %s was accepted", path, k.value)
			}
			for _, v := range got {
				if v.Path != path {
					t.Errorf("violation at %q; want %q", v.Path, path)
				}
				if strings.Contains(v.Reason, secret) || strings.Contains(v.Reason, "123.456") {
					t.Errorf("reason %q quotes the value", v.Reason)
				}
			}
		})
	}
}

// Proves the test above tests something: the library's own message does
// quote the value, so the reasons must not be built from it.
func TestTheSchemaLibraryQuotesValues(t *testing.T) {
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///s.json", map[string]any{"pattern": "^[0-9]+$"}); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem:///s.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate("SECRET-VALUE-123"); err == nil || !strings.Contains(err.Error(), "SECRET-VALUE-123") {
		t.Fatalf("the library's message %v no longer quotes the value; the redaction may be simplified", err)
	}
}

func TestCheckAnswerIsSafeForConcurrentUse(t *testing.T) {
	typ := mustCompile(t, testType)
	good, bad := value(t, `{"street": "Damrak", "number": 1}`), value(t, `{"number": 0}`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if v := typ.CheckAnswer("payment.address", good); v != nil {
					t.Errorf("good address refused: %v", v)
				}
				if v := typ.CheckAnswer("payment.address", bad); len(v) != 2 {
					t.Errorf("bad address: %v", v)
				}
			}
		})
	}
	wg.Wait()
}
