package ctl

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/delta"
)

// print writes msg as JSON, or rows as a table (the first row the header).
func (a *app) print(msg proto.Message, rows [][]string) error {
	if a.settings.Output == "json" {
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.out, string(b))
		return err
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

// journey shows one journey: its fields, then each answer by its path.
func (a *app) journey(j *handoffv1.Journey) error {
	holder := j.GetAssignee()
	if holder == "" {
		holder = "-"
	}
	rows := [][]string{
		{"NAME", j.GetName()},
		{"TYPE", j.GetJourneyType()},
		{"STATE", short(j.GetState().String(), "JOURNEY_STATE_")},
		{"STEP", j.GetStep()},
		{"HOLDER", holder},
		{"REVISION", strconv.FormatInt(j.GetRevision(), 10)},
		{"ETAG", j.GetEtag()},
		{"UPDATED", stamp(j.GetUpdateTime().AsTime())},
	}
	for _, kv := range leaves("", j.GetData()) {
		rows = append(rows, []string{"data." + kv[0], kv[1]})
	}
	return a.print(j, rows)
}

// journeys shows a list, one journey a line.
func (a *app) journeys(js []*handoffv1.Journey) error {
	rows := [][]string{{"NAME", "TYPE", "STATE", "STEP", "HOLDER", "UPDATED"}}
	for _, j := range js {
		rows = append(rows, []string{j.GetName(), j.GetJourneyType(), short(j.GetState().String(), "JOURNEY_STATE_"),
			j.GetStep(), j.GetAssignee(), stamp(j.GetUpdateTime().AsTime())})
	}
	return a.print(&handoffv1.ListJourneysResponse{Journeys: js}, rows)
}

// touchpoints shows a timeline, one touchpoint a line.
func (a *app) touchpoints(tps []*handoffv1.Touchpoint) error {
	rows := [][]string{{"TIME", "KIND", "CHANNEL", "WHO", "STEP", "NOTE"}}
	for _, tp := range tps {
		rows = append(rows, []string{stamp(tp.GetTime().AsTime()), short(tp.GetKind().String(), "TOUCHPOINT_KIND_"),
			short(tp.GetChannel().String(), "CHANNEL_"), tp.GetActor().GetId(), tp.GetStep(), tp.GetNote()})
	}
	return a.print(&handoffv1.ListTouchpointsResponse{Touchpoints: tps}, rows)
}

// watch prints the journey's changes from revision after, reconnecting
// from the last one printed when the server ends the stream, until ctx
// ends or count messages were printed.
func (a *app) watch(ctx context.Context, name string, after int64, count int) error {
	printed := 0
	header := a.settings.Output == "table"
	// The journey as the changes make it, so that a table line shows the
	// step and the holder even when the change did not touch them.
	var current *handoffv1.Journey
	for {
		stream, err := a.api.WatchJourney(a.call(ctx), &handoffv1.WatchJourneyRequest{Name: name, AfterRevision: after})
		if err != nil {
			return err
		}
		for {
			c, err := stream.Recv()
			if err != nil {
				if !resumable(err) || ctx.Err() != nil {
					return err
				}
				// Again from the last revision printed: nothing missed,
				// nothing twice.
				break
			}
			switch {
			case c.GetSnapshot():
				current = c.GetJourney()
			case current != nil && c.GetRevision() == current.GetRevision()+1:
				if next, err := delta.Apply(current, c); err == nil {
					current = next
				} else {
					current = nil
				}
			default:
				current = nil
			}
			if err := a.change(c, current, header); err != nil {
				return err
			}
			header = false
			after = c.GetRevision()
			if printed++; count > 0 && printed >= count {
				return nil
			}
		}
	}
}

// change prints one watched change: JSON on one line, or a table line
// with the journey's step and holder after it (from now, when known).
func (a *app) change(c *handoffv1.JourneyChange, now *handoffv1.Journey, header bool) error {
	if a.settings.Output == "json" {
		b, err := protojson.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.out, string(b))
		return err
	}
	what := strings.Join(c.GetChangedPaths(), ",")
	if c.GetSnapshot() {
		what = "(the journey as it is)"
	}
	var kinds []string
	for _, tp := range c.GetTouchpoints() {
		kinds = append(kinds, short(tp.GetKind().String(), "TOUCHPOINT_KIND_"))
	}
	w := tabwriter.NewWriter(a.out, 10, 4, 2, ' ', 0)
	if header {
		fmt.Fprintln(w, "REVISION\tSTEP\tHOLDER\tCHANGED\tTOUCHPOINTS")
	}
	if now == nil {
		now = c.GetJourney()
	}
	fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", c.GetRevision(), now.GetStep(), now.GetAssignee(), what, strings.Join(kinds, ","))
	return w.Flush()
}

// resumable reports whether the server ended the watch saying where to
// resume (it fell behind, or the server is shutting down), rather than
// refusing it.
func resumable(err error) bool {
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		return false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetMetadata()["resume_after_revision"] != "" {
			return true
		}
	}
	return false
}

// leaves are the answers of data by path (vehicle.plate), sorted, each
// value as JSON.
func leaves(prefix string, data *structpb.Struct) [][2]string {
	var out [][2]string
	for key, v := range data.GetFields() {
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		if s := v.GetStructValue(); s != nil {
			out = append(out, leaves(path, s)...)
			continue
		}
		b, _ := protojson.Marshal(v)
		out = append(out, [2]string{path, string(b)})
	}
	slices.SortFunc(out, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
	return out
}

// short drops an enum value's prefix, lower-cased: CHANNEL_PHONE is phone.
func short(v, prefix string) string { return strings.ToLower(strings.TrimPrefix(v, prefix)) }
