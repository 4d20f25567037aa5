package journeytype_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestParseReadsYAMLAndJSON(t *testing.T) {
	tests := []struct{ name, src string }{
		{"YAML", "name: journeyTypes/a\nttl: 60s\nsteps:\n  - id: s\n    momentOfTruth: true\n"},
		{"JSON", `{"name": "journeyTypes/a", "ttl": "60s", "steps": [{"id": "s", "momentOfTruth": true}]}`},
		{"YAML with the proto field names", "name: journeyTypes/a\nttl: 60s\nsteps:\n  - id: s\n    moment_of_truth: true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := journeytype.Parse([]byte(tt.src), "a")
			if err != nil {
				t.Fatal(err)
			}
			if def.GetName() != "journeyTypes/a" || def.GetTtl().AsDuration() != time.Minute || !def.GetSteps()[0].GetMomentOfTruth() {
				t.Fatalf("Parse = %v", def)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"an unknown field", "name: journeyTypes/a\nsteps:\n  - id: s\n    answers:\n      - key: k\n        maskKeeplast: 4\n",
			[]string{"bad.yaml", `unknown field "maskKeeplast"`}},
		{"a key written twice", "name: journeyTypes/a\nname: journeyTypes/b\n", []string{"bad.yaml", "is not valid YAML or JSON"}},
		{"a field of the wrong type", "name: journeyTypes/a\nsteps: {id: s}\n", []string{"bad.yaml", "is not a journey type"}},
		{"a list", "- name: journeyTypes/a\n", []string{"bad.yaml", "is not a journey type"}},
		{"YAML that does not parse", "name: [journeyTypes/a\n", []string{"bad.yaml", "is not valid YAML or JSON"}},
		{"nothing", " \n", []string{"bad.yaml", "is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := journeytype.Parse([]byte(tt.src), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse = %v; want an error", def)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirReadsEveryDefinitionFileInNameOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.yml":              "name: journeyTypes/c\nsteps: [{id: s}]\n",
		"a.json":             `{"name": "journeyTypes/a", "steps": [{"id": "s"}]}`,
		"b.yaml":             "name: journeyTypes/b\nsteps: [{id: s}]\n",
		"README.md":          "not a definition",
		".b.yaml.swp":        "an editor's",
		".#b.yaml":           "an editor's lock",
		"nested/d.yaml":      "not read: only the directory itself",
		"subdir.yaml/e.yaml": "a directory named like a file",
	})
	defs, err := journeytype.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.GetName())
	}
	if got := strings.Join(names, " "); got != "journeyTypes/a journeyTypes/b journeyTypes/c" {
		t.Fatalf("LoadDir = %s", got)
	}
}

func TestLoadDirFollowsLinkedFiles(t *testing.T) {
	// As a mounted Kubernetes ConfigMap lays them out.
	dir := writeFiles(t, map[string]string{"..data/a.yaml": "name: journeyTypes/a\nsteps: [{id: s}]\n"})
	if err := os.Symlink(filepath.Join("..data", "a.yaml"), filepath.Join(dir, "a.yaml")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	defs, err := journeytype.LoadDir(dir)
	if err != nil || len(defs) != 1 {
		t.Fatalf("LoadDir = %v, %v; want the linked definition", defs, err)
	}
}

func TestLoadDirRefusesTheWholeDirectory(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		want   []string
		wantOK []string // files that must not be blamed
		bad    int
	}{
		{"when one file is invalid", map[string]string{
			"a.yaml": "name: journeyTypes/a\nsteps: [{id: s}]\n",
			"b.yaml": "name: journeyTypes/b\nsteps: [{id: s.1}, {id: t, next: [nowhere]}]\n",
		}, []string{`b.yaml: journey type "b" is invalid: steps[0] has the id "s.1"`, `step "t" lists "nowhere" in next`}, []string{"a.yaml"}, 1},
		{"naming every bad file", map[string]string{
			"a.yaml": "name: journeyTypes/a\nsteps: [{id: s}]\n",
			"b.json": `{"name": "journeyTypes/b", "stepz": []}`,
			"c.yml":  "name: journeyTypes/c\n",
		}, []string{`b.json: unknown field "stepz"`, `c.yml: journey type "c" is invalid: declares no steps`}, []string{"a.yaml"}, 2},
		{"when two files declare one name", map[string]string{
			"a.yaml":      "name: journeyTypes/a\nsteps: [{id: s}]\n",
			"a-copy.yaml": "name: journeyTypes/a\nsteps: [{id: t}]\n",
		}, []string{"a.yaml: declares journeyTypes/a, which a-copy.yaml declares too"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs, err := journeytype.LoadDir(writeFiles(t, tt.files))
			if err == nil || defs != nil {
				t.Fatalf("LoadDir = %v, %v; want nothing and an error", defs, err)
			}
			var dirErr *journeytype.DirError
			if !errors.As(err, &dirErr) {
				t.Fatalf("error %v is not a *DirError", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if lines := strings.Count(msg, "\n"); lines != tt.bad {
				t.Errorf("error %q has %d lines after its first; want one per bad file (%d)", msg, lines, tt.bad)
			}
			for _, ok := range tt.wantOK {
				if strings.Contains(msg, ok+":") {
					t.Errorf("error %q blames the good file %s", msg, ok)
				}
			}
		})
	}
}

func TestLoadDirLetsCallersFindEachInvalidDefinition(t *testing.T) {
	_, err := journeytype.LoadDir(writeFiles(t, map[string]string{"a.yaml": "name: journeyTypes/a\n"}))
	var invalid *journeytype.InvalidError
	if !errors.As(err, &invalid) || invalid.Type != "a" {
		t.Fatalf("errors.As(%v, *InvalidError) found %v", err, invalid)
	}
}

func TestLoadDirRefusesADirectoryThatIsNotThere(t *testing.T) {
	if _, err := journeytype.LoadDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("LoadDir of a missing directory succeeded")
	}
}

func TestSameDefinition(t *testing.T) {
	base := parse(t, testType)
	tests := []struct {
		name   string
		change func(d *handoffv1.JourneyType)
		same   bool
	}{
		{"a copy", func(*handoffv1.JourneyType) {}, true},
		{"another version, etag and create time", func(d *handoffv1.JourneyType) {
			d.Version, d.Etag, d.CreateTime = 7, "7", timestamppb.Now()
		}, true},
		{"another label", func(d *handoffv1.JourneyType) { d.Steps[0].Label["en"] = "Car" }, false},
		{"another ttl", func(d *handoffv1.JourneyType) { d.Ttl = durationpb.New(2 * time.Hour) }, false},
		{"another schema", func(d *handoffv1.JourneyType) { d.Steps[0].Answers[0].Schema = schema(t, `{"type": "string"}`) }, false},
		{"one step fewer", func(d *handoffv1.JourneyType) { d.Steps = d.Steps[:2] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := parse(t, testType)
			tt.change(other)
			if got := journeytype.SameDefinition(base, other); got != tt.same {
				t.Fatalf("SameDefinition = %v; want %v", got, tt.same)
			}
		})
	}
	t.Run("leaves both definitions as they were", func(t *testing.T) {
		a, b := parse(t, testType), parse(t, testType)
		a.Version, a.Etag = 2, "2"
		journeytype.SameDefinition(a, b)
		if a.Version != 2 || a.Etag != "2" {
			t.Fatalf("SameDefinition cleared its argument's version or etag")
		}
	})
}
