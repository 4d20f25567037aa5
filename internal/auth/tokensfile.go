package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"gopkg.in/yaml.v3"
)

// tokensFile is the shape of a tokens file. Entries stay raw nodes so that
// each one can be checked with its position; yaml.v3's own unknown-field
// errors give only a line and a Go type name.
type tokensFile struct {
	Tokens []yaml.Node `yaml:"tokens"`
}

type fileEntry struct {
	Token     string `yaml:"token"`
	Principal string `yaml:"principal"`
	Role      string `yaml:"role"`
	// DisplayName is optional: the name customers see for an agent.
	DisplayName string `yaml:"display_name"`
}

// fileEntryKeys are the keys of fileEntry; anything else is a typo that would
// otherwise silently leave a field empty.
var fileEntryKeys = []string{"token", "principal", "role", "display_name"}

// LoadTokensFile reads the tokens a server accepts from a YAML file:
//
//	tokens:
//	  - {token: "web-secret", principal: "shop-website", role: service}
//	  - {token: "alice-secret", principal: "alice", role: agent}
//	  - {token: "c42-secret", principal: "c-42", role: customer}
//
// Roles are customer, agent, service and admin. Unknown keys and roles are
// errors, as is everything NewTokens rejects; errors name the file and the
// entry (counted from 1) and its line.
func LoadTokensFile(path string) (*Tokens, error) {
	t, err := loadTokensFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

func loadTokensFile(path string) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f tokensFile
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, errors.New("file is empty; list the tokens under `tokens:`")
		case errors.As(err, &te):
			return nil, fmt.Errorf("%w; the file holds one key, tokens, a list of {token, principal, role}", flatten(err))
		}
		return nil, err
	}
	// A second document would be ignored without a word.
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document (---); put every token in the first")
	}

	where := func(i int) string { return fmt.Sprintf("entry %d (line %d)", i+1, f.Tokens[i].Line) }
	entries := make([]TokenEntry, len(f.Tokens))
	for i := range f.Tokens {
		e, err := decodeEntry(&f.Tokens[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(i), err)
		}
		entries[i] = e
	}
	return newTokens(entries, where)
}

func decodeEntry(n *yaml.Node) (TokenEntry, error) {
	if n.Kind != yaml.MappingNode {
		return TokenEntry{}, errors.New("not a mapping; write {token: ..., principal: ..., role: ...}")
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(fileEntryKeys, k) {
			return TokenEntry{}, fmt.Errorf("unknown key %q; the keys are %s", k, strings.Join(fileEntryKeys, ", "))
		}
	}
	var fe fileEntry
	if err := n.Decode(&fe); err != nil {
		return TokenEntry{}, flatten(err)
	}
	role, err := parseRole(fe.Role)
	if err != nil {
		return TokenEntry{}, err
	}
	return TokenEntry{Token: fe.Token, Principal: fe.Principal, Role: role, DisplayName: fe.DisplayName}, nil
}

func parseRole(s string) (handoffv1.Role, error) {
	if s == "" {
		return 0, errors.New("role is missing; use customer, agent, service or admin")
	}
	r, ok := roleByName[s]
	if !ok {
		return 0, fmt.Errorf("role %q is unknown; use customer, agent, service or admin", s)
	}
	return r, nil
}

// flatten puts yaml.v3's multi-line "unmarshal errors" on one line, so an
// error stays one log line.
func flatten(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("yaml: %s", strings.Join(te.Errors, "; "))
}
