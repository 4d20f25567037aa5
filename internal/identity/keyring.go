package identity

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// KeySize is the size of a digest key: as long as SHA-256's output.
const KeySize = 32

var keyIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,16}$`)

// Keyring holds the digest keys, the current one first. It never changes
// once made, so it is safe for concurrent use; a reload makes a new one.
type Keyring struct {
	keys []key
}

type key struct {
	id     string
	secret []byte
}

// LoadKeyring reads a key file (see ParseKeyring).
func LoadKeyring(path string) (*Keyring, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseKeyring(string(raw))
}

// ParseKeyring reads one `<id> <base64 of 32 bytes>` per line, `#` starting
// a comment and blank lines ignored; the first key is current. Errors name
// the line, never the key.
func ParseKeyring(text string) (*Keyring, error) {
	r := &Keyring{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want `<id> <base64 of %d bytes>`", n, KeySize)
		}
		id := fields[0]
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("line %d: a key id is 1 to 16 of a-z, 0-9 and -", n)
		}
		if seen[id] {
			return nil, fmt.Errorf("line %d: key id %s appears twice", n, id)
		}
		secret, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: key %s is not base64", n, id)
		}
		if len(secret) != KeySize {
			return nil, fmt.Errorf("line %d: key %s has %d bytes; it needs %d (openssl rand -base64 32)", n, id, len(secret), KeySize)
		}
		seen[id] = true
		r.keys = append(r.keys, key{id: id, secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.keys) == 0 {
		return nil, errors.New("no keys: write one `<id> <base64 of 32 bytes>` per line")
	}
	return r, nil
}

// CurrentID is the id of the key new links are digested with.
func (r *Keyring) CurrentID() string { return r.keys[0].id }

// Current is id's digest under the current key: `<key id>.<hex>`.
func (r *Keyring) Current(id Identity) string { return r.keys[0].digest(id) }

// All is id's digest under every key, the current one first: an identity
// linked under an older key is still found.
func (r *Keyring) All(id Identity) []string {
	out := make([]string, len(r.keys))
	for i, k := range r.keys {
		out[i] = k.digest(id)
	}
	return out
}

func (k key) digest(id Identity) string {
	mac := hmac.New(sha256.New, k.secret)
	mac.Write([]byte(id.digestInput()))
	return k.id + "." + hex.EncodeToString(mac.Sum(nil))
}
