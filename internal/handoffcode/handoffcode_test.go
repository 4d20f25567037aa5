package handoffcode

import (
	"strings"
	"testing"
)

func TestNewMakesCanonicalCodesThatParseToThemselves(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		code := New()
		if len(code) != Length {
			t.Fatalf("New() = %q, want %d characters", code, Length)
		}
		got, ok := Parse(code)
		if !ok || got != code {
			t.Fatalf("Parse(New() = %q) = %q, %v", code, got, ok)
		}
		seen[code] = true
	}
	// 1000 draws from 2^40 codes colliding would mean the randomness is broken.
	if len(seen) != 1000 {
		t.Fatalf("1000 new codes had %d distinct values", len(seen))
	}
}

func TestNewUsesTheWholeAlphabetInEveryPosition(t *testing.T) {
	var seen [Length]map[byte]bool
	for i := range seen {
		seen[i] = map[byte]bool{}
	}
	for range 5000 {
		code := New()
		for i := range Length {
			seen[i][code[i]] = true
		}
	}
	for i := range seen {
		if len(seen[i]) != len(alphabet) {
			t.Errorf("position %d used %d of %d characters", i, len(seen[i]), len(alphabet))
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		typed string
		want  string
		ok    bool
	}{
		{"canonical_form_is_accepted", "K7QMX2HD", "K7QMX2HD", true},
		{"the_displayed_form_with_a_dash_is_accepted", "K7QM-X2HD", "K7QMX2HD", true},
		{"lower_case_is_accepted", "k7qm-x2hd", "K7QMX2HD", true},
		{"spaces_are_ignored", " K7QM X2HD ", "K7QMX2HD", true},
		{"letter_o_reads_as_zero", "OOOO-OOOO", "00000000", true},
		{"letters_i_and_l_read_as_one", "iIlL-1111", "11111111", true},
		{"u_is_not_in_the_alphabet", "UUUU-UUUU", "", false},
		{"too_short_is_refused", "K7QM-X2H", "", false},
		{"too_long_is_refused", "K7QM-X2HDA", "", false},
		{"punctuation_is_refused", "K7QM_X2HD", "", false},
		{"non_ascii_is_refused", "K7QM-X2HÐ", "", false},
		{"empty_is_refused", "", "", false},
		{"a_very_long_input_is_refused", strings.Repeat("-", 1000) + "K7QMX2HD", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.typed)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Parse(%q) = %q, %v; want %q, %v", tt.typed, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormatGroupsFourAndFour(t *testing.T) {
	if got := Format("K7QMX2HD"); got != "K7QM-X2HD" {
		t.Fatalf("Format = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"K7QM-X2HD", "oooo-iiii", "", "ÐÐÐÐ", "--------K7QMX2HD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		code, ok := Parse(typed)
		if !ok {
			return
		}
		if len(code) != Length {
			t.Fatalf("Parse(%q) = %q: not %d characters", typed, code, Length)
		}
		again, ok := Parse(Format(code))
		if !ok || again != code {
			t.Fatalf("Parse(Format(%q)) = %q, %v", code, again, ok)
		}
	})
}
