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
