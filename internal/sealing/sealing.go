// Package sealing encrypts values at rest with AES-256-GCM under a keyring
// of named keys, so keys can rotate without downtime: the newest key seals,
// every key of the ring opens, and each sealed value names its key.
//
// A sealed value is
//
//	"hs1:" + key id + ":" + 12-byte random nonce + ciphertext and GCM tag
//
// with the header ("hs1:<key id>:") and what the value belongs to (for the
// store, the journey's name) as additional authenticated data. So a value
// cannot be passed off as sealed by another key, nor copied to another
// journey by someone who can write to the store: it no longer opens there. A value without the
// "hs1:" prefix was written before sealing was turned on: Open returns it as
// it is, so turning sealing on needs no migration.
package sealing

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "hs1:"

// KeySize is the size of an AES-256 key.
const KeySize = 32

const nonceSize = 12

// maxKeyIDLen keeps the header small.
const maxKeyIDLen = 32

// ErrUnknownKey is returned by Open for a value sealed with a key that is
// not in the ring (rotated out, or never loaded here).
var ErrUnknownKey = errors.New("sealed with a key that is not in the keyring")

// ErrCorrupt is returned by Open for a sealed value that does not decrypt:
// tampered with, truncated, sealed for another owner, or sealed with
// another key of the same id.
var ErrCorrupt = errors.New("sealed value does not decrypt (tampered with, or another key under that id)")

// Keyring holds AES-256-GCM keys by id; the current one seals. It is safe
// for concurrent use and never changes after it is made.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// Key is one named key of a ring.
type Key struct {
	ID     string
	Secret []byte // KeySize bytes
}

// New makes a keyring of keys; the last one is the current key, which seals.
func New(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no keys")
	}
	r := &Keyring{aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if err := validID(k.ID); err != nil {
			return nil, err
		}
		if _, dup := r.aeads[k.ID]; dup {
			return nil, fmt.Errorf("keyring: key id %q appears twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("keyring: key %q has %d bytes, AES-256 needs %d", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", k.ID, err)
		}
		r.aeads[k.ID] = aead
		r.current = k.ID
	}
	return r, nil
}

// validID accepts ids of letters, digits, '.', '_' and '-', up to 32 bytes.
func validID(id string) error {
	if id == "" || len(id) > maxKeyIDLen {
		return fmt.Errorf("keyring: key id %q must have 1 to %d characters", id, maxKeyIDLen)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("keyring: key id %q may only hold letters, digits, '.', '_' and '-'", id)
		}
	}
	return nil
}

// Parse reads a keyring from text: one key per line, "<key id> <base64 of 32
// bytes>"; the last key is the current one. Blank lines and lines starting
// with '#' are skipped. Errors name the line, never the key.
func Parse(text string) (*Keyring, error) {
	var keys []Key
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("keyring line %d: want \"<key id> <base64 key>\"", n)
		}
		secret, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return nil, fmt.Errorf("keyring line %d: key %q is not standard base64", n, fields[0])
		}
		keys = append(keys, Key{ID: fields[0], Secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("keyring: no keys (want lines \"<key id> <base64 key>\")")
	}
	return New(keys...)
}

// Load reads a keyring from the file at path (see Parse).
func Load(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	r, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// CurrentID is the id of the key that seals.
func (r *Keyring) CurrentID() string { return r.current }

// Seal encrypts plaintext with the current key and a fresh random nonce,
// bound to owner: Open must be given the same owner.
func (r *Keyring) Seal(plaintext, owner []byte) []byte {
	aead := r.aeads[r.current]
	header := Prefix + r.current + ":"
	out := make([]byte, 0, len(header)+nonceSize+len(plaintext)+aead.Overhead())
	out = append(out, header...)
	out = append(out, make([]byte, nonceSize)...)
	nonce := out[len(header):]
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(nonce)
	return aead.Seal(out, nonce, plaintext, additionalData(out[:len(header)], owner))
}

// Open decrypts a value Seal made with any key of the ring for the same
// owner. A value that is not sealed (no "hs1:" prefix) is returned as it
// is.
func (r *Keyring) Open(value, owner []byte) ([]byte, error) {
	id, ok := KeyID(value)
	if !ok {
		if bytes.HasPrefix(value, []byte(Prefix)) {
			return nil, fmt.Errorf("%w: malformed header", ErrCorrupt)
		}
		return value, nil
	}
	aead, ok := r.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: key id %q", ErrUnknownKey, id)
	}
	headerLen := len(Prefix) + len(id) + 1
	rest := value[headerLen:]
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("%w: key id %q: too short", ErrCorrupt, id)
	}
	plain, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], additionalData(value[:headerLen], owner))
	if err != nil {
		return nil, fmt.Errorf("%w: key id %q", ErrCorrupt, id)
	}
	return plain, nil
}

// additionalData is what GCM authenticates beside the ciphertext: the
// header, then the owner. The header ends with ':', which a key id cannot
// hold, so no (header, owner) pair reads as another.
func additionalData(header, owner []byte) []byte {
	return append(header[:len(header):len(header)], owner...)
}

// KeyID is the id of the key value was sealed with; ok is false when value
// is not sealed (or its header is malformed).
func KeyID(value []byte) (id string, ok bool) {
	if !bytes.HasPrefix(value, []byte(Prefix)) {
		return "", false
	}
	rest := value[len(Prefix):]
	end := bytes.IndexByte(rest[:min(len(rest), maxKeyIDLen+1)], ':')
	if end <= 0 {
		return "", false
	}
	id = string(rest[:end])
	if validID(id) != nil {
		return "", false
	}
	return id, true
}

// IsSealed reports whether value starts like a sealed value.
func IsSealed(value []byte) bool { return bytes.HasPrefix(value, []byte(Prefix)) }
