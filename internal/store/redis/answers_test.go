package redis

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestDropKindless(t *testing.T) {
	none, red, blue := &structpb.Value{}, structpb.NewStringValue("red"), structpb.NewStringValue("blue")
	list := func(vs ...*structpb.Value) *structpb.Value {
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	object := func(kv ...any) *structpb.Value { return structpb.NewStructValue(structOf(kv...)) }
	tests := []struct {
		name       string
		data, want *structpb.Struct
	}{
		{"answers_that_all_have_a_value_stay_as_they_are",
			structOf("plate", red, "none", structpb.NewNullValue(), "empty", object(), "list", list(), "nested", object("a", list(red, object()))),
			structOf("plate", red, "none", structpb.NewNullValue(), "empty", object(), "list", list(), "nested", object("a", list(red, object())))},
		{"an_answer_without_a_value_is_dropped", structOf("plate", red, "colour", none), structOf("plate", red)},
		{"a_nil_answer_is_dropped_alike", structOf("plate", red, "colour", nil), structOf("plate", red)},
		{"one_in_an_object_is_dropped_and_the_object_stays", structOf("vehicle", object("colour", none)), structOf("vehicle", object())},
		{"list_items_without_a_value_are_dropped_and_the_rest_keep_their_order", structOf("colours", list(none, red, none, blue, none)), structOf("colours", list(red, blue))},
		{"a_list_of_only_such_items_becomes_empty", structOf("colours", list(none, none)), structOf("colours", list())},
		{"one_in_a_list_in_an_object_is_dropped", structOf("vehicle", object("colours", list(red, none))), structOf("vehicle", object("colours", list(red)))},
		{"one_in_a_list_in_a_list_is_dropped", structOf("grid", list(list(none, red), none)), structOf("grid", list(list(red)))},
		{"one_in_an_object_in_a_list_is_dropped", structOf("owners", list(object("name", red, "age", none))), structOf("owners", list(object("name", red)))},
		{"no_answers_stay_none", &structpb.Struct{}, &structpb.Struct{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dropKindless(tt.data)
			require.True(t, proto.Equal(tt.want, tt.data), "got %v, want %v", tt.data, tt.want)
			_, err := protojson.Marshal(tt.data)
			require.NoError(t, err, "what is left must be writable as JSON")
		})
	}
	t.Run("nil_answers_are_left_alone", func(t *testing.T) {
		require.NotPanics(t, func() { dropKindless(nil) })
	})
}

// structOf is a Struct of alternating keys and values.
func structOf(kv ...any) *structpb.Struct {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := kv[i+1].(*structpb.Value)
		s.Fields[kv[i].(string)] = v
	}
	return s
}
