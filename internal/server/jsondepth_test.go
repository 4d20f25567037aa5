package server

import (
	"strings"
	"testing"
)

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"a_flat_object_is_one_deep", `{"a":1}`, 1},
		{"nested_objects_and_arrays_count", `{"a":[{"b":[1]}]}`, 4},
		{"brackets_inside_strings_do_not_count", `{"a":"{[{[{["}`, 1},
		{"escaped_quotes_do_not_end_a_string", `{"a":"\"{{{"}`, 1},
		{"a_hostile_body_is_measured", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonDepth([]byte(tt.body)); got != tt.want {
				t.Fatalf("jsonDepth = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTrailingData(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"one_object_has_none", `{"a":1}`, false},
		{"whitespace_after_the_object_is_none", "{\"a\":1} \t\r\n", false},
		{"a_second_object_is_trailing_data", `{"a":1}{"b":2}`, true},
		{"a_second_object_after_a_newline_is_trailing_data", "{\"a\":1}\n{\"b\":2}", true},
		{"garbage_after_the_object_is_trailing_data", `{"a":1} garbage`, true},
		{"a_stray_closing_brace_is_trailing_data", `{"a":1}}`, true},
		{"a_form_feed_is_not_json_whitespace", "{\"a\":1}\f", true},
		{"an_object_after_null_is_trailing_data", `null {"a":1}`, true},
		{"a_malformed_body_is_left_to_the_gateway", `{"a": `, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trailingData([]byte(tt.body)); got != tt.want {
				t.Fatalf("trailingData = %v, want %v", got, tt.want)
			}
		})
	}
}
