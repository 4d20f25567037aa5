package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func keyOf(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), KeySize)))
}

func TestParseKeyring(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
		current             string
	}{
		{name: "the_first_key_is_current", text: "k2 " + keyOf('b') + "\nk1 " + keyOf('a') + "\n", current: "k2"},
		{name: "comments_and_blank_lines_are_ignored", text: "# rotated in May\n\nk2 " + keyOf('b') + " # new\n", current: "k2"},
		{name: "a_short_key_is_refused", text: "k1 " + base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "line 1: key k1 has 5 bytes"},
		{name: "a_key_that_is_not_base64_is_refused", text: "k1 !!!", wantErr: "line 1: key k1 is not base64"},
		{name: "a_duplicate_id_is_refused", text: "k1 " + keyOf('a') + "\nk1 " + keyOf('b'), wantErr: "line 2: key id k1 appears twice"},
		{name: "an_id_with_capitals_is_refused", text: "K1 " + keyOf('a'), wantErr: "line 1: a key id is"},
		{name: "an_id_over_16_characters_is_refused", text: strings.Repeat("k", 17) + " " + keyOf('a'), wantErr: "line 1: a key id is"},
		{name: "a_line_with_three_fields_is_refused", text: "k1 " + keyOf('a') + " extra", wantErr: "line 1: want"},
		{name: "a_file_without_keys_is_refused", text: "# nothing yet\n", wantErr: "no keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseKeyring(tt.text)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), keyOf('a'), "an error must never quote a key")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.current, r.CurrentID())
		})
	}
}

func TestDigests(t *testing.T) {
	r, err := ParseKeyring("k2 " + keyOf('b') + "\nk1 " + keyOf('a'))
	require.NoError(t, err)
	p, err := NewParser("NL")
	require.NoError(t, err)
	spaced, err := p.Parse("+31 6 1234 5678")
	require.NoError(t, err)
	local, err := p.Parse("06-12345678")
	require.NoError(t, err)

	t.Run("a_digest_is_the_hmac_of_kind_and_normal_form_named_by_its_key", func(t *testing.T) {
		mac := hmac.New(sha256.New, []byte(strings.Repeat("b", KeySize)))
		mac.Write([]byte("phone:+31612345678"))
		require.Equal(t, "k2."+hex.EncodeToString(mac.Sum(nil)), r.Current(spaced))
	})
	t.Run("two_spellings_of_one_number_have_one_digest", func(t *testing.T) {
		require.Equal(t, r.Current(spaced), r.Current(local))
	})
	t.Run("all_gives_one_digest_per_key_the_current_first", func(t *testing.T) {
		all := r.All(spaced)
		require.Len(t, all, 2)
		require.Equal(t, r.Current(spaced), all[0])
		require.True(t, strings.HasPrefix(all[1], "k1."))
		require.NotEqual(t, all[0][3:], all[1][3:])
	})
	t.Run("the_same_text_of_another_kind_has_another_digest", func(t *testing.T) {
		handle, err := p.Parse("social:phone:31612345678")
		require.NoError(t, err)
		require.NotEqual(t, r.Current(spaced), r.Current(handle))
	})
	t.Run("a_digest_holds_no_part_of_the_number", func(t *testing.T) {
		require.NotContains(t, r.Current(spaced), "612345678")
	})
}
