package journeytype

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// unknownField picks the field name out of protojson's error, whose
// wording is deliberately unstable; when it no longer matches, the error
// is passed on as it is.
var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// Parse reads one definition written as YAML or JSON: the JourneyType
// message in its protojson form. Unknown fields are refused, since a
// misspelt one (maskKeeplast) would otherwise be dropped without a word.
// source names the data in errors, usually its file.
func Parse(data []byte, source string) (*handoffv1.JourneyType, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: is empty, not a journey type", source)
	}
	// Strict: a key written twice is refused, not silently overwritten.
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		// One line: the YAML library's messages may span several.
		return nil, fmt.Errorf("%s: is not valid YAML or JSON: %s", source, strings.Join(strings.Fields(err.Error()), " "))
	}
	def := &handoffv1.JourneyType{}
	if err := protojson.Unmarshal(js, def); err != nil {
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("%s: unknown field %q: check its spelling against api/handoff/v1/journey_type.proto", source, m[1])
		}
		return nil, fmt.Errorf("%s: is not a journey type (positions count in its JSON form): %w", source, err)
	}
	return def, nil
}

// LoadDir reads every *.yaml, *.yml and *.json file directly in dir, in
// name order, and parses and compiles each. One bad file refuses them
// all (nothing is half-loaded): the error names every bad file and what is
// wrong with it. Files whose names start with a dot are skipped: editors
// keep their swap and lock files there.
func LoadDir(dir string) ([]*handoffv1.JourneyType, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journey types: %w", err)
	}
	var (
		defs     []*handoffv1.JourneyType
		problems []error
		declared = map[string]string{} // name → the first file declaring it
	)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !isDefinitionFile(name) {
			continue
		}
		path := filepath.Join(dir, name)
		// Stat, not the entry's type: mounted config (a Kubernetes
		// ConfigMap) links every file.
		if info, err := os.Stat(path); err == nil && info.IsDir() {
			continue
		}
		def, err := loadFile(path, name)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if first, dup := declared[def.GetName()]; dup {
			problems = append(problems, fmt.Errorf("%s: declares %s, which %s declares too", name, def.GetName(), first))
			continue
		}
		declared[def.GetName()] = name
		defs = append(defs, def)
	}
	if len(problems) > 0 {
		return nil, &DirError{Dir: dir, Problems: problems}
	}
	return defs, nil
}

func isDefinitionFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func loadFile(path, name string) (*handoffv1.JourneyType, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot be read: %w", name, err)
	}
	def, err := Parse(data, name)
	if err != nil {
		return nil, err
	}
	if _, err := Compile(def); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return def, nil
}

// DirError refuses a directory of definitions, naming every bad file.
type DirError struct {
	Dir      string
	Problems []error // one per bad file, each starting with the file's name
}

// Error puts each file on a line of its own, since a file's own reasons
// are already joined with "; ".
func (e *DirError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "journey types in %s refused, none loaded:", e.Dir)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap gives errors.As the problems, e.g. each file's *InvalidError.
func (e *DirError) Unwrap() []error { return e.Problems }

// SameDefinition reports whether two definitions declare the same thing,
// ignoring what storing them sets: version, etag and create_time.
func SameDefinition(a, b *handoffv1.JourneyType) bool {
	return proto.Equal(withoutStoredFields(a), withoutStoredFields(b))
}

func withoutStoredFields(def *handoffv1.JourneyType) *handoffv1.JourneyType {
	if def == nil {
		return nil
	}
	c := proto.Clone(def).(*handoffv1.JourneyType)
	c.Version = 0
	c.Etag = ""
	c.CreateTime = nil
	return c
}
