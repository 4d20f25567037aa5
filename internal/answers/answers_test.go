package answers

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

func TestLeavesAndNestAreInverse(t *testing.T) {
	tests := []struct {
		name  string
		data  map[string]any
		paths []string
	}{
		{"flat_answers_are_their_own_leaves", map[string]any{"a": 1.0, "b": "x"}, []string{"a", "b"}},
		{"nested_objects_are_walked", map[string]any{"vehicle": map[string]any{"plate": "AB", "make": "Volvo"}}, []string{"vehicle.make", "vehicle.plate"}},
		{"an_empty_object_is_a_leaf", map[string]any{"extras": map[string]any{}}, []string{"extras"}},
		{"a_list_is_a_leaf_whatever_it_holds", map[string]any{"drivers": []any{map[string]any{"name": "Anna"}}}, []string{"drivers"}},
		{"null_is_a_leaf", map[string]any{"note": nil}, []string{"note"}},
		{"no_answers_have_no_leaves", map[string]any{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mustStruct(t, tt.data)
			leaves := Leaves(data)
			var paths []string
			for _, l := range leaves {
				paths = append(paths, l.Path)
			}
			require.Equal(t, tt.paths, paths)
			require.Equal(t, data.AsMap(), Nest(leaves).AsMap())
		})
	}
}

func TestSetAndRemoveMergeAsASaveDoes(t *testing.T) {
	tests := []struct {
		name   string
		data   map[string]any
		change func(*structpb.Struct)
		want   map[string]any
	}{
		{"setting_a_leaf_keeps_its_siblings",
			map[string]any{"vehicle": map[string]any{"plate": "AB", "make": "Volvo"}},
			func(s *structpb.Struct) { Set(s, "vehicle.plate", structpb.NewStringValue("CD")) },
			map[string]any{"vehicle": map[string]any{"plate": "CD", "make": "Volvo"}}},
		{"setting_under_a_leaf_replaces_the_leaf_with_an_object",
			map[string]any{"vehicle": "none"},
			func(s *structpb.Struct) { Set(s, "vehicle.plate", structpb.NewStringValue("CD")) },
			map[string]any{"vehicle": map[string]any{"plate": "CD"}}},
		{"setting_an_object_replaces_everything_under_it",
			map[string]any{"vehicle": map[string]any{"plate": "AB", "make": "Volvo"}},
			func(s *structpb.Struct) { Set(s, "vehicle", structpb.NewStringValue("none")) },
			map[string]any{"vehicle": "none"}},
		{"removing_a_subtree_leaves_the_rest",
			map[string]any{"vehicle": map[string]any{"plate": "AB"}, "cover": "full"},
			func(s *structpb.Struct) { Remove(s, "vehicle") },
			map[string]any{"cover": "full"}},
		{"removing_what_is_not_there_changes_nothing",
			map[string]any{"cover": "full"},
			func(s *structpb.Struct) { Remove(s, "vehicle.plate") },
			map[string]any{"cover": "full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mustStruct(t, tt.data)
			tt.change(data)
			require.Equal(t, tt.want, data.AsMap())
		})
	}
}

func TestRelated(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"the_same_path", "vehicle.plate", "vehicle.plate", true},
		{"an_ancestor", "vehicle", "vehicle.plate", true},
		{"a_descendant", "vehicle.plate", "vehicle", true},
		{"siblings", "vehicle.plate", "vehicle.make", false},
		{"a_shared_prefix_that_is_no_ancestor", "vehicle", "vehicles.plate", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Related(tt.a, tt.b))
		})
	}
}

func TestJSONRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		v    any
		json string
	}{
		{"a_string", "Anna \"A\" <x>", `"Anna \"A\" \u003cx\u003e"`},
		{"an_integer", 1988.0, `1988`},
		{"a_fraction", 0.25, `0.25`},
		{"a_large_number", 1e21, `1e+21`},
		{"a_boolean", true, `true`},
		{"null", nil, `null`},
		{"an_object_with_sorted_keys", map[string]any{"b": 1.0, "a": []any{"x", 2.0}}, `{"a":["x",2],"b":1}`},
		{"an_empty_object", map[string]any{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := structpb.NewValue(tt.v)
			require.NoError(t, err)
			b, err := EncodeJSON(v)
			require.NoError(t, err)
			require.Equal(t, tt.json, string(b))
			back, err := DecodeJSON(b)
			require.NoError(t, err)
			require.Equal(t, v.AsInterface(), back.AsInterface())
		})
	}
}

func TestLeavesAtPutsAnObjectsLeavesBelowItsPath(t *testing.T) {
	obj, err := structpb.NewValue(map[string]any{"plate": "AB", "extras": map[string]any{"glass": true}, "none": map[string]any{}})
	require.NoError(t, err)
	tests := []struct {
		name  string
		value *structpb.Value
		want  []string
	}{
		{"an_object_gives_its_leaves_below_the_path", obj, []string{"vehicle.extras.glass", "vehicle.none", "vehicle.plate"}},
		{"a_scalar_is_itself", structpb.NewStringValue("AB"), []string{"vehicle"}},
		{"an_empty_object_is_itself", structpb.NewStructValue(&structpb.Struct{}), []string{"vehicle"}},
		{"a_removal_is_itself", nil, []string{"vehicle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range LeavesAt("vehicle", tt.value) {
				got = append(got, l.Path)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeJSONReadsWhatEncodingJSONReads(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"a_plain_string", `"comprehensive"`},
		{"an_empty_string", `""`},
		{"a_string_with_accents_and_emoji", `"Zoë Ørsted 🚗"`},
		{"a_string_with_an_escaped_quote", `"Anna \"A\""`},
		{"a_string_with_html_escapes", `"\u003cx\u003e \u0026"`},
		{"a_string_with_an_escaped_newline", `"line\nnext"`},
		{"a_string_of_invalid_utf8_which_becomes_the_replacement_character", "\"a\xffb\""},
		{"a_string_with_a_raw_control_character_which_is_an_error", "\"a\x01b\""},
		{"an_integer", `1988`},
		{"a_negative_fraction", `-0.25`},
		{"negative_zero", `-0`},
		{"a_number_with_an_exponent", `1e+21`},
		{"a_small_number_with_an_exponent", `1.5E-7`},
		{"a_number_too_large_which_is_an_error", `1e400`},
		{"a_lone_minus_which_is_an_error", `-`},
		{"infinity_which_is_not_json", `Infinity`},
		{"true", `true`},
		{"false", `false`},
		{"null", `null`},
		{"a_list", `["x",2,null]`},
		{"an_object", `{"a":{"b":1}}`},
		{"an_empty_object", `{}`},
		{"nothing_which_is_an_error", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x any
			wantErr := json.Unmarshal([]byte(tt.json), &x)
			got, err := DecodeJSON([]byte(tt.json))
			if wantErr != nil {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			want, err := structpb.NewValue(x)
			require.NoError(t, err)
			require.True(t, proto.Equal(want, got), "got %v, want %v", got, want)
			if f, ok := x.(float64); ok && f == 0 {
				require.Equal(t, math.Signbit(f), math.Signbit(got.GetNumberValue()), "the sign of zero")
			}
		})
	}
}

// BenchmarkDecodeJSON reads the kinds of answer a journey holds.
func BenchmarkDecodeJSON(b *testing.B) {
	for _, in := range []string{`"comprehensive"`, `2011`, `true`, `{"a":1}`} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeJSON([]byte(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
