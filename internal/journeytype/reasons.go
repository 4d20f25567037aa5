package journeytype

import (
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// reasonsFor says why a value failed its schema, from the library's error
// kinds and the schema's own constraints only. The library's messages
// quote the value ("'x' does not match pattern ..."), and answers may be
// personal data, so its text is never used. Reasons are sorted because
// the library walks properties in map order.
func reasonsFor(verr *jsonschema.ValidationError, isSelect bool) []string {
	var reasons []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
			// Containers: what failed is in their causes, each worth saying.
			for _, cause := range e.Causes {
				walk(cause)
			}
			return
		}
		reason := describe(e.ErrorKind, isSelect)
		if at := schemaPointer(e.SchemaURL); at != "" {
			reason += " (schema " + at + ")"
		}
		reasons = append(reasons, reason)
	}
	walk(verr)
	slices.Sort(reasons)
	return slices.Compact(reasons)
}

// schemaPointer is where in the answer's schema a check failed, e.g.
// "/properties/street"; "" at its root. It names the schema, never the
// value (whose keys could be anything).
func schemaPointer(schemaURL string) string {
	_, ptr, _ := strings.Cut(schemaURL, "#")
	if unescaped, err := url.PathUnescape(ptr); err == nil {
		return unescaped
	}
	return ptr
}

// describe says what a value must be to pass the check that failed. Only
// the fields of k that come from the schema are used.
func describe(k jsonschema.ErrorKind, isSelect bool) string {
	switch k := k.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = withArticle(w)
		}
		return "must be " + strings.Join(want, " or ")
	case *kind.Enum:
		if isSelect {
			return "must be one of the declared options"
		}
		if list, ok := primitives(k.Want); ok {
			return "must be one of " + list
		}
		return "must be one of the values the schema lists"
	case *kind.Const:
		if list, ok := primitives([]any{k.Want}); ok {
			return "must be " + list
		}
		return "must be the value the schema's const gives"
	case *kind.Format:
		return "must be a valid " + k.Want
	case *kind.MinLength:
		return "must be at least " + count(k.Want, "character")
	case *kind.MaxLength:
		return "must be at most " + count(k.Want, "character")
	case *kind.Pattern:
		return "must match the pattern " + k.Want
	case *kind.Minimum:
		return "must be at least " + number(k.Want)
	case *kind.Maximum:
		return "must be at most " + number(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be more than " + number(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be less than " + number(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + number(k.Want)
	case *kind.MinProperties:
		return "must have at least " + count(k.Want, "property")
	case *kind.MaxProperties:
		return "must have at most " + count(k.Want, "property")
	case *kind.Required:
		return "must have " + quoteAll(k.Missing)
	case *kind.DependentRequired:
		return fmt.Sprintf("must have %s along with %s", quoteAll(k.Missing), strconv.Quote(k.Prop))
	case *kind.Dependency:
		return fmt.Sprintf("must have %s along with %s", quoteAll(k.Missing), strconv.Quote(k.Prop))
	case *kind.AdditionalProperties:
		// The extra names come from the value, so they are not repeated.
		return "must not have properties the schema does not allow"
	case *kind.PropertyNames:
		return "must not have property names the schema does not allow"
	case *kind.MinItems:
		return "must have at least " + count(k.Want, "item")
	case *kind.MaxItems:
		return "must have at most " + count(k.Want, "item")
	case *kind.AdditionalItems:
		return "must not have more items than the schema describes"
	case *kind.UniqueItems:
		return fmt.Sprintf("must not repeat an item (items %d and %d are equal)", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		return "must contain an item that matches contains"
	case *kind.MinContains:
		return "must contain at least " + count(k.Want, "item") + " that match contains"
	case *kind.MaxContains:
		return "must contain at most " + count(k.Want, "item") + " that match contains"
	case *kind.AnyOf:
		return "must match at least one of the schemas in anyOf"
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return "must match one of the schemas in oneOf"
		}
		return fmt.Sprintf("must match only one of the schemas in oneOf, not both %d and %d", k.Subschemas[0], k.Subschemas[1])
	case *kind.Not:
		return "must not match the schema in not"
	case *kind.FalseSchema:
		return "is not allowed here"
	case *kind.ContentEncoding:
		return "must be encoded as " + k.Want
	case *kind.ContentMediaType:
		return "must be of the media type " + k.Want
	case *kind.ContentSchema:
		return "must match contentSchema"
	case *kind.RefCycle:
		return "cannot be checked: the schema's references go round in a cycle"
	case *kind.InvalidJsonValue:
		return "is not a JSON value"
	default:
		return "does not pass the schema's " + strings.Join(k.KeywordPath(), "/")
	}
}

func withArticle(jsonType string) string {
	switch jsonType {
	case "null":
		return "null"
	case "integer", "object", "array":
		return "an " + jsonType
	default:
		return "a " + jsonType
	}
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func number(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func quoteAll(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return strings.Join(quoted, ", ")
}

// primitives lists schema values (an enum's, a const) as a reader would
// write them; ok is false when one of them is an object or array.
func primitives(values []any) (string, bool) {
	parts := make([]string, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case string:
			parts[i] = strconv.Quote(v)
		case map[string]any, []any:
			return "", false
		case nil:
			parts[i] = "null"
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, ", "), true
}
