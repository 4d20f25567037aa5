// Package answers is the model of a journey's answers as the stores keep
// them: a tree of JSON objects (the API's `data`, a protobuf Struct) seen
// as its leaves, each named by its path (`vehicle.plate`). Saves, stored
// records and the deltas watchers receive all speak in leaves; this
// package turns a Struct into leaves and back, applies set and removed
// paths the way a save applies its mask, and encodes one leaf's value as
// the JSON a store keeps.
package answers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
)

// Sep separates the keys of a path. Answer keys cannot contain it, so a
// path names exactly one place in the tree.
const Sep = "."

// Leaf is one answer: a value that is not a non-empty object, at its path.
type Leaf struct {
	Path  string
	Value *structpb.Value
}

// Leaves lists every leaf of data, sorted by path: nested objects are
// walked; anything else, an empty object included, is a leaf.
func Leaves(data *structpb.Struct) []Leaf {
	return leavesUnder("", data)
}

// LeavesAt lists the leaves a value written at path makes: its own leaves,
// below path, when it is a non-empty object; else itself (nil included).
func LeavesAt(path string, v *structpb.Value) []Leaf {
	if obj := v.GetStructValue(); len(obj.GetFields()) > 0 {
		return leavesUnder(path, obj)
	}
	return []Leaf{{Path: path, Value: v}}
}

// leavesUnder is Leaves of data with every path below prefix.
func leavesUnder(prefix string, data *structpb.Struct) []Leaf {
	var out []Leaf
	var walk func(prefix string, s *structpb.Struct)
	walk = func(prefix string, s *structpb.Struct) {
		for k, v := range s.GetFields() {
			p := k
			if prefix != "" {
				p = prefix + Sep + k
			}
			if sub := v.GetStructValue(); sub != nil && len(sub.GetFields()) > 0 {
				walk(p, sub)
				continue
			}
			out = append(out, Leaf{Path: p, Value: v})
		}
	}
	walk(prefix, data)
	slices.SortFunc(out, func(a, b Leaf) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Lookup finds the value at path in data: a leaf or a whole subtree.
func Lookup(data *structpb.Struct, path string) (*structpb.Value, bool) {
	keys := strings.Split(path, Sep)
	s := data
	for i, k := range keys {
		v, ok := s.GetFields()[k]
		if !ok {
			return nil, false
		}
		if i == len(keys)-1 {
			return v, true
		}
		if s = v.GetStructValue(); s == nil {
			return nil, false
		}
	}
	return nil, false
}

// Set writes v at path in data, creating objects on the way and replacing
// a non-object that stands where an object must go, and whatever stood at
// path (a subtree included).
func Set(data *structpb.Struct, path string, v *structpb.Value) {
	keys := strings.Split(path, Sep)
	s := data
	for _, k := range keys[:len(keys)-1] {
		if s.Fields == nil {
			s.Fields = map[string]*structpb.Value{}
		}
		next := s.Fields[k].GetStructValue()
		if next == nil {
			next = &structpb.Struct{}
			s.Fields[k] = structpb.NewStructValue(next)
		}
		s = next
	}
	if s.Fields == nil {
		s.Fields = map[string]*structpb.Value{}
	}
	s.Fields[keys[len(keys)-1]] = v
}

// Remove deletes whatever stands at path (a subtree included). Objects
// left empty on the way stay, as the Struct merge of a save leaves them.
func Remove(data *structpb.Struct, path string) {
	keys := strings.Split(path, Sep)
	s := data
	for _, k := range keys[:len(keys)-1] {
		if s = s.GetFields()[k].GetStructValue(); s == nil {
			return
		}
	}
	delete(s.GetFields(), keys[len(keys)-1])
}

// Nest builds the tree of the given leaves.
func Nest(leaves []Leaf) *structpb.Struct {
	data := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for _, l := range leaves {
		Set(data, l.Path, l.Value)
	}
	return data
}

// Related reports whether a and b name the same place, or one lies under
// the other: writing either changes what the other reads.
func Related(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(b, a+Sep)
}

// EncodeJSON is the JSON a store keeps for one leaf's value. Objects'
// keys come out sorted, so equal values encode alike.
func EncodeJSON(v *structpb.Value) ([]byte, error) {
	b, err := json.Marshal(v.AsInterface())
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	return b, nil
}

// DecodeJSON reads a value EncodeJSON wrote. Most answers are a plain
// string, a number or a literal, which it reads directly; a read of a
// whole journey decodes every answer, and going through encoding/json's
// any took a sixth of a Redis read's CPU. Anything else, and anything
// that needs unescaping, goes through encoding/json.
func DecodeJSON(b []byte) (*structpb.Value, error) {
	if v, ok := decodeScalar(b); ok {
		return v, nil
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	v, err := structpb.NewValue(x)
	if err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return v, nil
}

// decodeScalar reads b, as EncodeJSON wrote it, when it is a literal, a
// number, or a string with nothing escaped, to the value encoding/json
// gives; ok is false for anything else, which encoding/json then reads.
func decodeScalar(b []byte) (v *structpb.Value, ok bool) {
	switch s := string(b); {
	case s == "null":
		return structpb.NewNullValue(), true
	case s == "true":
		return structpb.NewBoolValue(true), true
	case s == "false":
		return structpb.NewBoolValue(false), true
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"':
		inner := b[1 : len(b)-1]
		for _, c := range inner {
			if c < ' ' || c == '"' || c == '\\' {
				return nil, false
			}
		}
		if !utf8.Valid(inner) {
			return nil, false
		}
		return structpb.NewStringValue(string(inner)), true
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		// Only JSON's number characters, so ParseFloat reads no more than
		// JSON allows (no "Inf", no hexadecimal).
		for _, c := range b {
			if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
				return nil, false
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		return structpb.NewNumberValue(f), true
	}
	return nil, false
}
