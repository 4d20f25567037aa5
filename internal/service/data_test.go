package service

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestCheckData(t *testing.T) {
	s := New(nil, nil, Options{Limits: Limits{MaxDataDepth: 3, MaxDataKeys: 5, MaxStringBytes: 10, MaxDataBytes: 1000}})
	nest := func(depth int) map[string]any {
		m := map[string]any{"leaf": 1}
		for range depth - 1 {
			m = map[string]any{"a": m}
		}
		return m
	}
	tests := []struct {
		name string
		data *structpb.Struct
		ok   bool
	}{
		{"answers_within_every_limit_pass", mustStruct(t, map[string]any{"plate": "AB-123-C", "year": 2019}), true},
		{"three_levels_pass", mustStruct(t, nest(3)), true},
		{"four_levels_are_too_deep", mustStruct(t, nest(4)), false},
		{"lists_count_as_levels", mustStruct(t, map[string]any{"a": map[string]any{"b": []any{[]any{1}}}}), false},
		{"six_keys_are_too_many", mustStruct(t, map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}), false},
		{"nested_keys_count_too", mustStruct(t, map[string]any{"a": map[string]any{"b": 1, "c": 2, "d": 3, "e": 4, "f": 5}}), false},
		{"an_11_byte_string_is_too_long", mustStruct(t, map[string]any{"a": strings.Repeat("x", 11)}), false},
		{"nan_is_refused", &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewNumberValue(math.NaN())}}, false},
		{"invalid_utf8_is_refused", &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue("a\xffb")}}, false},
		{"a_key_with_a_dot_is_refused", mustStruct(t, map[string]any{"a.b": 1}), false},
		{"an_empty_key_is_refused", mustStruct(t, map[string]any{"": 1}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.checkData(tt.data, "journey.data")
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
		})
	}
}

func TestCheckDataNamesAnAnswerWithoutAValue(t *testing.T) {
	s := New(nil, nil, Options{Limits: Limits{MaxDataDepth: 32, MaxDataKeys: 1000, MaxStringBytes: 100, MaxDataBytes: 10000}})
	none, red := &structpb.Value{}, structpb.NewStringValue("red")
	list := func(vs ...*structpb.Value) *structpb.Value {
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	object := func(k string, v *structpb.Value) *structpb.Value {
		return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{k: v}})
	}
	tests := []struct {
		name  string
		value *structpb.Value // the answer "vehicle"
		path  string          // "" when it passes
	}{
		{"an_answer_without_a_value_is_refused", none, "vehicle"},
		{"a_nil_answer_is_refused_alike", nil, "vehicle"},
		{"an_answer_without_a_value_in_an_object_is_refused", object("colour", none), "vehicle.colour"},
		{"a_list_item_without_a_value_is_refused", list(red, none), "vehicle[1]"},
		{"a_list_item_without_a_value_in_an_object_is_refused", object("colours", list(red, red, none)), "vehicle.colours[2]"},
		{"a_list_item_without_a_value_in_a_list_is_refused", list(list(red), list(none)), "vehicle[1][0]"},
		{"deep_paths_keep_their_order", object("a", object("b", list(object("c", none)))), "vehicle.a.b[0].c"},
		{"null_an_empty_object_and_an_empty_list_pass", list(structpb.NewNullValue(), object("x", list()), structpb.NewStructValue(&structpb.Struct{})), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.checkData(&structpb.Struct{Fields: map[string]*structpb.Value{"vehicle": tt.value}}, "journey.data")
			if tt.path == "" {
				require.NoError(t, err)
				return
			}
			st := status.Convert(err)
			require.Equal(t, codes.InvalidArgument, st.Code(), "%v", err)
			require.Len(t, st.Details(), 1)
			v := st.Details()[0].(*errdetails.BadRequest).GetFieldViolations()[0]
			require.Equal(t, "journey.data", v.GetField())
			require.Contains(t, v.GetDescription(), `answer "`+tt.path+`" has no value`)
			require.NotContains(t, v.GetDescription(), "red", "a refusal names the answer, never its value")
		})
	}
}
