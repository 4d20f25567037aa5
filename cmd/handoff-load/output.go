package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

var sectionTitles = map[string]string{
	"results": "Results",
	"soak":    "Soak",
	"profile": "Profile",
}

// writeReport puts the generated sections into the Markdown file at path.
// An existing file keeps everything outside its generated sections (the
// method and the analysis written by hand), and any section this run did
// not produce (a soak run separately); a section it lacks is appended.
func writeReport(path string, sections []section) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		old, err = []byte("# Benchmarks\n"), nil
	}
	if err != nil {
		return err
	}
	doc := string(old)
	for _, s := range sections {
		next, found, err := loadgen.Splice(doc, s.name, s.body)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !found {
			next = doc + "\n## " + sectionTitles[s.name] + "\n\n" + loadgen.Section(s.name, s.body)
		}
		doc = next
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
