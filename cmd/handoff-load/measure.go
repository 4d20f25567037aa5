package main

import (
	"context"
	"fmt"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// measureAll loads each scale in turn into an emptied Redis, measures its
// memory, and runs the gRPC mix on it; at the preload size it runs the
// whole suite, the one-journey phase, and the soak and profile if asked.
// With -soak-only it loads the preload size and runs the soak alone.
func (d *driver) measureAll(ctx context.Context) (*report, error) {
	rep := &report{opts: d.opts, env: d.environment(ctx)}
	scale := d.opts.scale
	if d.opts.soakOnly {
		scale = []int{d.opts.journeys}
	}
	for _, n := range scale {
		fmt.Fprintf(d.log, "%s journeys\n", thousands(int64(n)))
		mem, err := d.load(ctx, n)
		if err != nil {
			return nil, err
		}
		if quote != nil {
			if err := d.knowTypes(ctx, n); err != nil {
				return nil, err
			}
		}
		if d.opts.soakOnly {
			soak, err := d.soakRun(ctx, n)
			if err != nil {
				return nil, err
			}
			rep.soak = &soak
			break
		}
		row := scaleRow{mem: mem}
		if n != d.opts.journeys {
			mix, err := d.mixOp(d.grpc, n)
			if err != nil {
				return nil, err
			}
			row.mix = d.runPhase(ctx, groupGRPC, whatMix, load{callers: d.opts.callers}, mix)
			rep.scale = append(rep.scale, row)
			continue
		}
		if rep.phases, err = d.suite(ctx, n); err != nil {
			return nil, err
		}
		row.mix = *rep.find(groupGRPC, whatMix, load{callers: d.opts.callers})
		rep.scale = append(rep.scale, row)
		fmt.Fprintf(d.log, "  one journey, %d writers\n", d.opts.hotWriters)
		hot, err := d.hotJourney(ctx, d.opts.hotWriters)
		if err != nil {
			return nil, err
		}
		rep.hot = &hot
		if d.opts.soak > 0 {
			soak, err := d.soakRun(ctx, n)
			if err != nil {
				return nil, err
			}
			rep.soak = &soak
		}
		if d.opts.cpuprofile != "" {
			prof, err := d.profile(ctx, n)
			if err != nil {
				return nil, err
			}
			rep.profile = &prof
		}
	}
	if quote != nil {
		c, err := d.countInsight(ctx)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(d.log, c)
		rep.insight = &c
	}
	rep.env.loadAfter = loadgen.LoadAverage()
	return rep, ctx.Err()
}
