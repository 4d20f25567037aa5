package loadgen

import (
	"fmt"
	"strings"
)

// Markers around a section of a Markdown file that the driver writes:
// <!-- handoff-load:NAME --> and <!-- /handoff-load:NAME -->. Everything
// outside them is left as it is, so a document can explain what the
// generated figures mean and still be regenerated.
func beginMarker(name string) string { return "<!-- handoff-load:" + name + " -->" }
func endMarker(name string) string   { return "<!-- /handoff-load:" + name + " -->" }

// Section wraps body in the markers of section name.
func Section(name, body string) string {
	return beginMarker(name) + "\n" + strings.TrimRight(body, "\n") + "\n" + endMarker(name) + "\n"
}

// Splice replaces the body of section name in doc with body. It reports
// false when doc has no such section, and an error when the section is
// malformed (a begin marker without its end, or either twice).
func Splice(doc, name, body string) (string, bool, error) {
	begin, end := beginMarker(name), endMarker(name)
	nb, ne := strings.Count(doc, begin), strings.Count(doc, end)
	switch {
	case nb == 0 && ne == 0:
		return doc, false, nil
	case nb != 1 || ne != 1:
		return "", false, fmt.Errorf("section %s: %d begin and %d end markers, want one of each", name, nb, ne)
	}
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if j < i {
		return "", false, fmt.Errorf("section %s: end marker before begin marker", name)
	}
	// Keep whatever follows the end marker on its line (normally "\n").
	rest := doc[j+len(end):]
	rest = strings.TrimPrefix(rest, "\n")
	return doc[:i] + Section(name, body) + rest, true, nil
}
