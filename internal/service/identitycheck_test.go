package service

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestSameAnswer(t *testing.T) {
	value := func(v any) *structpb.Value {
		out, err := structpb.NewValue(v)
		require.NoError(t, err)
		return out
	}
	tests := []struct {
		name          string
		stored, given any
		same          bool
	}{
		{"the_same_string_matches", "1984-03-07", "1984-03-07", true},
		{"a_string_matches_without_case_and_whitespace", "1234 AB", " 1234ab ", true},
		{"case_is_folded_beyond_ascii", "STRASSE ÄRGER", "strasse ärger", true},
		{"another_string_does_not_match", "1234 AB", "1234 AC", false},
		{"a_number_matches_the_same_number", 1988, 1988, true},
		{"a_number_typed_as_text_matches", 1988, "1988", true},
		{"another_number_does_not_match", 1988, 1989, false},
		{"text_that_is_no_json_does_not_match_a_number", 1988, "nineteen", false},
		{"a_number_given_for_a_string_matches_its_text", "1988", 1988, true},
		{"objects_match_whatever_their_key_order", map[string]any{"a": 1, "b": "x"}, map[string]any{"b": "x", "a": 1}, true},
		{"objects_compare_strings_exactly", map[string]any{"a": "X"}, map[string]any{"a": "x"}, false},
		{"true_does_not_match_false", true, false, false},
		{"an_empty_answer_does_not_match_null", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored, given *structpb.Value
			if tt.stored != nil {
				stored = value(tt.stored)
			}
			if tt.given != nil {
				given = value(tt.given)
			}
			require.Equal(t, tt.same, sameAnswer(stored, given))
		})
	}
}
