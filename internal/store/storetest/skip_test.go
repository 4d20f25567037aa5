package storetest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
)

func TestSkipping(t *testing.T) {
	tests := []struct {
		name    string
		skip    string
		subtest string
		skipped bool
	}{
		{"a_skip_of_a_category_skips_its_cases", "save", "save/a_case", true},
		{"a_skip_of_a_case_skips_that_case", "save/a_case", "save/a_case", true},
		{"a_skip_of_a_case_skips_its_subtests", "save/a_case", "save/a_case/one_of_its_rounds", true},
		{"a_skip_leaves_other_categories", "save", "save_conflicts/a_case", false},
		{"a_skip_leaves_other_cases_of_its_category", "save/a_case", "save/a_case_too", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.Name()
			built := false
			newStore := skipping(root, func(*testing.T, Options) store.Store {
				built = true
				return nil
			}, []Skip{{Case: tt.skip, Reason: "not built yet"}})
			var skipped bool
			run(t, tt.subtest, func(t *testing.T) {
				t.Cleanup(func() { skipped = t.Skipped() })
				newStore(t, Options{})
			})
			require.Equal(t, tt.skipped, skipped, "skipped")
			require.Equal(t, !tt.skipped, built, "the store was built")
		})
	}
}

// run runs f as the subtest at path (a/b/c) under t.
func run(t *testing.T, path string, f func(t *testing.T)) {
	head, rest, nested := strings.Cut(path, "/")
	t.Run(head, func(t *testing.T) {
		if nested {
			run(t, rest, f)
			return
		}
		f(t)
	})
}
