// Package handoffcode makes and reads the short codes a customer reads aloud
// to an agent: 8 characters of Crockford's base32 (40 random bits), shown as
// K7QM-X2HD. Reading is forgiving the way Crockford intended for codes that
// pass through people: any case, dashes and spaces ignored, O read as 0 and
// I or L as 1.
package handoffcode

import (
	"crypto/rand"
	"strings"
)

// Length is the number of characters in a code, without the dash.
const Length = 8

// alphabet is Crockford's base32: no I, L, O or U, so that a code read over
// the phone has no look-alikes and spells no accidental words.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a fresh code in canonical form (8 characters, no dash) from
// 40 bits of crypto/rand.
func New() string {
	var b [5]byte
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b[:])
	v := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
	out := make([]byte, Length)
	for i := Length - 1; i >= 0; i-- {
		out[i] = alphabet[v&31]
		v >>= 5
	}
	return string(out)
}

// Format groups a canonical code for display: K7QMX2HD becomes K7QM-X2HD.
func Format(code string) string {
	if len(code) != Length {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// Parse reads what a person typed and returns the canonical code, or false
// when it cannot be a code. It never says more than that, so that a typo and
// a guess look the same.
func Parse(typed string) (string, bool) {
	if len(typed) > 4*Length {
		return "", false
	}
	var b strings.Builder
	b.Grow(Length)
	for _, r := range typed {
		switch {
		case r == '-' || r == ' ':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(alphabet, byte(r)) < 0 {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != Length {
		return "", false
	}
	return b.String(), true
}
