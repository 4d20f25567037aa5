package main

import (
	"context"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

var nan = math.NaN()

// environment is what the figures were measured on.
type environment struct {
	date                  time.Time
	nproc                 int
	cpu                   string
	goVersion             string
	redisVersion          string
	loadBefore, loadAfter string
	args                  []string
}

func (d *driver) environment(ctx context.Context) environment {
	e := environment{
		date:       time.Now().UTC(),
		nproc:      runtime.NumCPU(),
		cpu:        cpuModel(),
		goVersion:  runtime.Version(),
		loadBefore: loadgen.LoadAverage(),
		args:       os.Args[1:],
	}
	if info, err := d.rc.Info(ctx, "server").Result(); err == nil {
		e.redisVersion, _ = loadgen.RedisInfoField(info, "redis_version")
	}
	return e
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// thousands writes n with comma separators: 100000 → "100,000".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
