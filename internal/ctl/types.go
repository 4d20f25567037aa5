package ctl

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// revealCommand shows one sensitive answer, for a reason the customer
// reads on the timeline (docs/journeytypes.md).
func revealCommand(a *app) *cobra.Command {
	var reason string
	reveal := &cobra.Command{
		Use: "reveal JOURNEY PATH", Short: "Show a sensitive answer (e.g. payment.iban) for a reason the customer reads", Args: args(2, "JOURNEY and PATH"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			if strings.TrimSpace(reason) == "" {
				return &usageError{fmt.Errorf("--reason is required: the customer reads it on the timeline")}
			}
			resp, err := a.api.RevealAnswer(a.call(cmd.Context()), &handoffv1.RevealAnswerRequest{Name: arg[0], Path: arg[1], Reason: reason})
			if err != nil {
				return err
			}
			value, err := protojson.Marshal(resp.GetValue())
			if err != nil {
				return err
			}
			return a.print(resp, [][]string{{"PATH", "VALUE"}, {resp.GetPath(), string(value)}})
		},
	}
	reveal.Flags().StringVar(&reason, "reason", "", "why you need to see it (required; the customer reads it)")
	return reveal
}

// typesCommand lists, shows and applies journey types.
func typesCommand(a *app) *cobra.Command {
	types := &cobra.Command{Use: "types", Short: "List, show and apply journey types (docs/journeytypes.md)"}
	list := &cobra.Command{
		Use: "list", Short: "List the latest version of every journey type", Args: args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.types.ListJourneyTypes(a.call(cmd.Context()), &handoffv1.ListJourneyTypesRequest{})
			if err != nil {
				return err
			}
			rows := [][]string{{"NAME", "VERSION", "STEPS"}}
			for _, t := range resp.GetJourneyTypes() {
				rows = append(rows, []string{t.GetName(), strconv.FormatInt(t.GetVersion(), 10), stepIDs(t)})
			}
			return a.print(resp, rows)
		},
	}
	get := &cobra.Command{
		Use: "get TYPE[@VERSION]", Short: "Show a journey type's latest version, or the one named", Args: args(1, "TYPE"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			t, err := a.types.GetJourneyType(a.call(cmd.Context()), &handoffv1.GetJourneyTypeRequest{Name: typeName(arg[0])})
			if err != nil {
				return err
			}
			return a.print(t, [][]string{{"NAME", "VERSION", "STEPS"}, {t.GetName(), strconv.FormatInt(t.GetVersion(), 10), stepIDs(t)}})
		},
	}
	apply := &cobra.Command{
		Use:   "apply FILE...",
		Short: "Declare or update journey types from YAML or JSON files (admins)",
		Long: `Each file is one journey type, as --journey-types-dir reads them. A type
not declared yet is created; a declared one gets a new version when the
file differs from its latest, and none when it does not. Files are
checked before any is sent.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var defs []*handoffv1.JourneyType
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					return &usageError{err}
				}
				def, err := journeytype.Parse(b, f)
				if err == nil {
					_, err = journeytype.Compile(def)
				}
				if err != nil {
					return &usageError{fmt.Errorf("%s: %w", f, err)}
				}
				defs = append(defs, def)
			}
			rows := [][]string{{"NAME", "VERSION", "CHANGE"}}
			out := &handoffv1.ListJourneyTypesResponse{}
			for _, def := range defs {
				ctx := a.call(cmd.Context())
				t, err := a.types.CreateJourneyType(ctx, &handoffv1.CreateJourneyTypeRequest{JourneyType: def})
				change := "created"
				if status.Code(err) == codes.AlreadyExists {
					var before *handoffv1.JourneyType
					if before, err = a.types.GetJourneyType(ctx, &handoffv1.GetJourneyTypeRequest{Name: def.GetName()}); err == nil {
						t, err = a.types.UpdateJourneyType(ctx, &handoffv1.UpdateJourneyTypeRequest{JourneyType: def})
					}
					change = "new version"
					if err == nil && t.GetVersion() == before.GetVersion() {
						change = "unchanged"
					}
				}
				if err != nil {
					return fmt.Errorf("%s: %w", def.GetName(), err)
				}
				out.JourneyTypes = append(out.JourneyTypes, t)
				rows = append(rows, []string{t.GetName(), strconv.FormatInt(t.GetVersion(), 10), change})
			}
			return a.print(out, rows)
		},
	}
	types.AddCommand(list, get, apply)
	return types
}

// typeName accepts `car-insurance-quote`, `car-insurance-quote@2` or the
// resource name.
func typeName(s string) string {
	return journeytype.NamePrefix + strings.TrimPrefix(s, journeytype.NamePrefix)
}

func stepIDs(t *handoffv1.JourneyType) string {
	ids := make([]string, len(t.GetSteps()))
	for i, s := range t.GetSteps() {
		ids[i] = s.GetId()
	}
	return strings.Join(ids, " → ")
}
