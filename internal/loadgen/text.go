package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// RedisInfoField finds one field ("used_memory") in the text of Redis's
// INFO reply: "name:value" lines, CRLF-terminated, with "# Section"
// headings.
func RedisInfoField(info, name string) (string, bool) {
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if ok && k == name {
			return v, true
		}
	}
	return "", false
}

// RedisInfoInt is RedisInfoField read as an integer.
func RedisInfoInt(info, name string) (int64, error) {
	v, ok := RedisInfoField(info, name)
	if !ok {
		return 0, fmt.Errorf("INFO has no %s", name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("INFO %s: %w", name, err)
	}
	return n, nil
}

// PromValue finds an unlabelled sample ("go_goroutines 12") in the
// Prometheus text exposition format.
func PromValue(text, name string) (float64, error) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		// A sample line is "name value" or "name value timestamp".
		if (len(f) == 2 || len(f) == 3) && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("no sample %s", name)
}
