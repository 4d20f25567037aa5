package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// args checks a command's positional arguments, as a usage error.
func args(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, got []string) error {
		if len(got) != n {
			return &usageError{fmt.Errorf("want %s, got %d arguments", names, len(got))}
		}
		return nil
	}
}

func commands(a *app) []*cobra.Command {
	get := &cobra.Command{
		Use: "get JOURNEY", Short: "Show a journey: its step, state, holder and every answer", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			j, err := a.api.GetJourney(a.call(cmd.Context()), &handoffv1.GetJourneyRequest{Name: arg[0]})
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}

	var state string
	list := &cobra.Command{
		Use: "list CUSTOMER", Short: "List a customer's journeys, newest first", Args: args(1, "CUSTOMER"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			req := &handoffv1.ListJourneysRequest{Parent: "customers/" + strings.TrimPrefix(arg[0], "customers/")}
			if state != "all" {
				v, ok := handoffv1.JourneyState_value["JOURNEY_STATE_"+strings.ToUpper(state)]
				if !ok {
					return &usageError{fmt.Errorf("--state %q: active, completed, abandoned or all", state)}
				}
				req.State = handoffv1.JourneyState(v)
			}
			var all []*handoffv1.Journey
			for {
				page, err := a.api.ListJourneys(a.call(cmd.Context()), req)
				if err != nil {
					return err
				}
				all = append(all, page.GetJourneys()...)
				if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			return a.journeys(all)
		},
	}
	list.Flags().StringVar(&state, "state", "active", "active, completed, abandoned or all")

	var step, etag string
	var answers, removals []string
	save := &cobra.Command{
		Use:   "save JOURNEY",
		Short: "Save answers and the step, as a form does",
		Long: `Save answers (--set path=value, the value as JSON or else as text) and
the step (--step); --unset removes an answer. With --etag the save is
refused (ABORTED) when someone changed what it writes since that etag.`,
		Example: `  handoffctl save customers/c-42/journeys/anna-quote --step cover --set cover.level=comprehensive --set driver.birthYear=1988`,
		Args:    args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			data := &structpb.Struct{Fields: map[string]*structpb.Value{}}
			var paths []string
			for _, kv := range answers {
				path, raw, ok := strings.Cut(kv, "=")
				if !ok || path == "" {
					return &usageError{fmt.Errorf("--set %q: want path=value", kv)}
				}
				var v any = raw
				if err := json.Unmarshal([]byte(raw), &v); err != nil {
					v = raw // not JSON: the text itself
				}
				val, err := structpb.NewValue(v)
				if err != nil {
					return &usageError{fmt.Errorf("--set %s: %w", path, err)}
				}
				setPath(data, strings.Split(path, "."), val)
				paths = append(paths, "data."+path)
			}
			for _, path := range removals {
				paths = append(paths, "data."+path)
			}
			j := &handoffv1.Journey{Name: arg[0], Data: data, Etag: etag}
			if cmd.Flags().Changed("step") {
				j.Step = step
				paths = append(paths, "step")
			}
			if len(paths) == 0 {
				return &usageError{errors.New("nothing to save: give --set, --unset or --step")}
			}
			saved, err := a.api.UpdateJourney(a.call(cmd.Context()), &handoffv1.UpdateJourneyRequest{Journey: j, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			if err != nil {
				return err
			}
			return a.journey(saved)
		},
	}
	save.Flags().StringVar(&step, "step", "", "the step the journey is at")
	save.Flags().StringArrayVar(&answers, "set", nil, "an answer, path=value (repeatable)")
	save.Flags().StringArrayVar(&removals, "unset", nil, "an answer to remove, by its path (repeatable)")
	save.Flags().StringVar(&etag, "etag", "", "the etag read last; the save is refused if what it writes changed since")

	handoff := &cobra.Command{
		Use: "handoff JOURNEY", Short: "Make a code the customer reads out to continue on another channel", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			offer, err := a.api.HandoffJourney(a.call(cmd.Context()), &handoffv1.HandoffJourneyRequest{Name: arg[0]})
			if err != nil {
				return err
			}
			return a.print(offer, [][]string{{"CODE", "EXPIRES"}, {offer.GetCode(), stamp(offer.GetExpireTime().AsTime())}})
		},
	}

	redeem := &cobra.Command{
		Use: "redeem CODE", Short: "Open the journey a customer's code names, and take the case", Args: args(1, "CODE"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			j, err := a.api.RedeemHandoff(a.call(cmd.Context()), &handoffv1.RedeemHandoffRequest{Code: arg[0]})
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}

	var takeOver bool
	claim := &cobra.Command{
		Use: "claim JOURNEY", Short: "Take the case (again: renew the claim)", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			j, err := a.api.ClaimJourney(a.call(cmd.Context()), &handoffv1.ClaimJourneyRequest{Name: arg[0], TakeOver: takeOver})
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}
	claim.Flags().BoolVar(&takeOver, "take-over", false, "an admin takes the case from the agent holding it")

	var note string
	release := &cobra.Command{
		Use: "release JOURNEY", Short: "Hand the case back", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			j, err := a.api.ReleaseJourney(a.call(cmd.Context()), &handoffv1.ReleaseJourneyRequest{Name: arg[0], Note: note})
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}
	release.Flags().StringVar(&note, "note", "", "a note for colleagues (customers never see it)")

	var toAgent, toChannel, transferNote string
	transfer := &cobra.Command{
		Use: "transfer JOURNEY", Short: "Hand the case to another agent, or back to the queue", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			req := &handoffv1.TransferJourneyRequest{Name: arg[0], ToAgent: toAgent, Note: transferNote}
			if toChannel != "" {
				v, ok := handoffv1.Channel_value["CHANNEL_"+strings.ToUpper(toChannel)]
				if !ok {
					return &usageError{fmt.Errorf("--to-channel %q: web, app, phone, chat, social, email or in_person", toChannel)}
				}
				req.ToChannel = handoffv1.Channel(v)
			}
			j, err := a.api.TransferJourney(a.call(cmd.Context()), req)
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}
	transfer.Flags().StringVar(&toAgent, "to", "", "the agent to hand the case to; empty: the open queue")
	transfer.Flags().StringVar(&toChannel, "to-channel", "", "the next agent's desk, e.g. phone")
	transfer.Flags().StringVar(&transferNote, "note", "", "a note for the next agent")

	touchpoints := &cobra.Command{
		Use: "touchpoints JOURNEY", Short: "Show the journey's timeline, oldest first", Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			req := &handoffv1.ListTouchpointsRequest{Parent: arg[0]}
			var all []*handoffv1.Touchpoint
			for {
				page, err := a.api.ListTouchpoints(a.call(cmd.Context()), req)
				if err != nil {
					return err
				}
				all = append(all, page.GetTouchpoints()...)
				if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			return a.touchpoints(all)
		},
	}

	var after int64
	var count int
	watch := &cobra.Command{
		Use:   "watch JOURNEY",
		Short: "Follow a journey's changes as they happen",
		Long: `Print the journey as it is, then each change (its revision and what it
changed). When the server ends the watch (it falls behind, or shuts down),
handoffctl reconnects from the last revision it printed, so nothing is
missed or printed twice. --after resumes after a revision; --count stops
after that many messages.`,
		Args: args(1, "JOURNEY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			return a.watch(cmd.Context(), arg[0], after, count)
		},
	}
	watch.Flags().Int64Var(&after, "after", 0, "resume after this revision (0: start with the journey as it is)")
	watch.Flags().IntVar(&count, "count", 0, "stop after this many messages (0: until interrupted)")

	erase := &cobra.Command{
		Use: "erase CUSTOMER", Short: "Erase everything kept of a customer (admins)", Args: args(1, "CUSTOMER"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			resp, err := a.api.DeleteCustomer(a.call(cmd.Context()), &handoffv1.DeleteCustomerRequest{Name: "customers/" + strings.TrimPrefix(arg[0], "customers/")})
			if err != nil {
				return err
			}
			return a.print(resp, [][]string{{"ERASED JOURNEYS"}, {strconv.Itoa(int(resp.GetErasedJourneys()))}})
		},
	}

	return []*cobra.Command{get, list, save, handoff, redeem, claim, release, transfer, watch, touchpoints, erase, revealCommand(a), typesCommand(a), identitiesCommand(a), lookupCommand(a), verifyCommand(a), insightCommand(a)}
}

// setPath puts val at path in s, making the objects on the way.
func setPath(s *structpb.Struct, path []string, val *structpb.Value) {
	for _, key := range path[:len(path)-1] {
		next := s.GetFields()[key].GetStructValue()
		if next == nil {
			next = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			s.Fields[key] = structpb.NewStructValue(next)
		}
		s = next
	}
	s.Fields[path[len(path)-1]] = val
}

// describe says what went wrong in a failed call: the code, the message,
// and each field violation with its reason.
func describe(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	out := st.Code().String() + ": " + st.Message()
	if st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connection") {
		out += " (is handoffd running at --addr?)"
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out += fmt.Sprintf("\n  %s: %s (%s)", v.GetField(), v.GetDescription(), v.GetReason())
			}
		}
	}
	return out
}

// stamp is a time as the tables show it.
func stamp(t time.Time) string { return t.Local().Format(time.DateTime) }
