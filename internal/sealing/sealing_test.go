package sealing_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/sealing"
)

func key(t *testing.T, id string) sealing.Key {
	t.Helper()
	b := make([]byte, sealing.KeySize)
	_, _ = rand.Read(b)
	return sealing.Key{ID: id, Secret: b}
}

func line(k sealing.Key) string {
	return k.ID + " " + base64.StdEncoding.EncodeToString(k.Secret) + "\n"
}

// journeyA and journeyB are owners, as the store binds values to journeys.
var (
	journeyA = []byte("customers/c-1/journeys/a")
	journeyB = []byte("customers/c-2/journeys/b")
)

func TestSealOpen(t *testing.T) {
	r, err := sealing.New(key(t, "k1"))
	require.NoError(t, err)
	plain := []byte("licence plate AB-123-CD")
	sealed := r.Seal(plain, journeyA)
	require.True(t, bytes.HasPrefix(sealed, []byte("hs1:k1:")))
	require.NotContains(t, string(sealed), "AB-123-CD")
	require.NotEqual(t, sealed, r.Seal(plain, journeyA), "a fresh nonce per value")
	got, err := r.Open(sealed, journeyA)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	empty, err := r.Open(r.Seal(nil, journeyA), journeyA)
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestOpenReturnsUnsealedValuesAsTheyAre(t *testing.T) {
	r, err := sealing.New(key(t, "k1"))
	require.NoError(t, err)
	for _, v := range []string{"", "\x08\x01\x12\x03abc", "plain"} {
		got, err := r.Open([]byte(v), journeyA)
		require.NoError(t, err)
		require.Equal(t, v, string(got))
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	r, err := sealing.New(key(t, "k1"))
	require.NoError(t, err)
	sealed := r.Seal([]byte("secret answer"), journeyA)
	for i := len("hs1:k1:"); i < len(sealed); i++ {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := r.Open(bad, journeyA)
		require.ErrorIs(t, err, sealing.ErrCorrupt, "byte %d flipped", i)
	}
	_, err = r.Open(sealed[:len(sealed)-1], journeyA)
	require.ErrorIs(t, err, sealing.ErrCorrupt)
	_, err = r.Open([]byte("hs1:k1:short"), journeyA)
	require.ErrorIs(t, err, sealing.ErrCorrupt)
	_, err = r.Open([]byte("hs1:no header end"), journeyA)
	require.ErrorIs(t, err, sealing.ErrCorrupt)
}

func TestAValueDoesNotOpenForAnotherOwner(t *testing.T) {
	r, err := sealing.New(key(t, "k1"))
	require.NoError(t, err)
	sealed := r.Seal([]byte("secret answer"), journeyA)
	tests := []struct {
		name  string
		owner []byte
	}{
		{"another_journey", journeyB},
		{"no_owner", nil},
		{"a_prefix_of_the_owner", journeyA[:len(journeyA)-1]},
		{"the_owner_with_more_after_it", append(append([]byte{}, journeyA...), 'x')},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_cannot_open_it", func(t *testing.T) {
			_, err := r.Open(sealed, tt.owner)
			require.ErrorIs(t, err, sealing.ErrCorrupt)
		})
	}
	got, err := r.Open(sealed, journeyA)
	require.NoError(t, err)
	require.Equal(t, "secret answer", string(got))
}

func TestWrongKeyIDFails(t *testing.T) {
	a, b := key(t, "a"), key(t, "b")
	ring, err := sealing.New(a, b)
	require.NoError(t, err)
	sealed := ring.Seal([]byte("secret answer"), journeyA)
	require.True(t, bytes.HasPrefix(sealed, []byte("hs1:b:")), "the last key seals")

	// Relabelled as sealed by the other key of the ring: the header is
	// authenticated, and the key is wrong.
	relabelled := append([]byte("hs1:a:"), sealed[len("hs1:b:"):]...)
	_, err = ring.Open(relabelled, journeyA)
	require.ErrorIs(t, err, sealing.ErrCorrupt)

	// A key id the ring does not hold.
	onlyA, err := sealing.New(a)
	require.NoError(t, err)
	_, err = onlyA.Open(sealed, journeyA)
	require.ErrorIs(t, err, sealing.ErrUnknownKey)
	require.Contains(t, err.Error(), `"b"`)

	// Another key under the same id.
	otherB, err := sealing.New(key(t, "b"))
	require.NoError(t, err)
	_, err = otherB.Open(sealed, journeyA)
	require.ErrorIs(t, err, sealing.ErrCorrupt)
}

func TestRotation(t *testing.T) {
	a, b := key(t, "a"), key(t, "b")
	ringA, err := sealing.New(a)
	require.NoError(t, err)
	old := ringA.Seal([]byte("old"), journeyA)
	ringAB, err := sealing.New(a, b)
	require.NoError(t, err)
	got, err := ringAB.Open(old, journeyA)
	require.NoError(t, err)
	require.Equal(t, "old", string(got))
	id, ok := sealing.KeyID(ringAB.Seal([]byte("new"), journeyA))
	require.True(t, ok)
	require.Equal(t, "b", id)
}

func TestParseAndLoad(t *testing.T) {
	a, b := key(t, "2024-01"), key(t, "2025-01")
	text := "# rotated yearly\n\n" + line(a) + "  " + line(b)
	r, err := sealing.Parse(text)
	require.NoError(t, err)
	require.Equal(t, "2025-01", r.CurrentID())

	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	r, err = sealing.Load(path)
	require.NoError(t, err)
	require.Equal(t, "2025-01", r.CurrentID())

	_, err = sealing.Load(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)

	secret := base64.StdEncoding.EncodeToString(a.Secret)
	for name, bad := range map[string]string{
		"empty":        "# nothing\n",
		"one field":    "k1\n",
		"not base64":   "k1 !!!\n",
		"short key":    "k1 " + base64.StdEncoding.EncodeToString([]byte("short")) + "\n",
		"duplicate id": line(a) + line(a),
		"bad id":       "k:1 " + secret + "\n",
		"too many":     "k1 " + secret + " extra\n",
	} {
		_, err := sealing.Parse(bad)
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), secret, "%s: errors never show a key", name)
	}
}

func TestNewRejectsNoKeys(t *testing.T) {
	_, err := sealing.New()
	require.Error(t, err)
	require.False(t, errors.Is(err, sealing.ErrCorrupt))
	require.False(t, strings.Contains(err.Error(), "hs1"))
}
