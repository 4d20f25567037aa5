package ctl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// identitiesCommand links, lists and unlinks the identities a customer is
// reached by (docs/reach.md).
func identitiesCommand(a *app) *cobra.Command {
	ids := &cobra.Command{Use: "identities", Short: "Link, list and unlink a customer's phone numbers, e-mail addresses and social handles"}
	link := &cobra.Command{
		Use: "link CUSTOMER IDENTITY", Short: "Link an identity (+31612345678, anna@example.com, social:instagram:anna.b)", Args: args(2, "CUSTOMER and IDENTITY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			l, err := a.ids.CreateIdentityLink(a.call(cmd.Context()), &handoffv1.CreateIdentityLinkRequest{
				Parent: customerName(arg[0]), IdentityLink: &handoffv1.IdentityLink{Identity: arg[1]}})
			if err != nil {
				return err
			}
			return a.print(l, linkRows(l))
		},
	}
	list := &cobra.Command{
		Use: "list CUSTOMER", Short: "List a customer's links: kinds and times, never the identities", Args: args(1, "CUSTOMER"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			resp, err := a.ids.ListIdentityLinks(a.call(cmd.Context()), &handoffv1.ListIdentityLinksRequest{Parent: customerName(arg[0])})
			if err != nil {
				return err
			}
			return a.print(resp, linkRows(resp.GetIdentityLinks()...))
		},
	}
	unlink := &cobra.Command{
		Use: "unlink LINK", Short: "Remove a link (customers/<customer>/identityLinks/<id>)", Args: args(1, "LINK"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			resp, err := a.ids.DeleteIdentityLink(a.call(cmd.Context()), &handoffv1.DeleteIdentityLinkRequest{Name: arg[0]})
			if err != nil {
				return err
			}
			return a.print(resp, [][]string{{"UNLINKED"}, {arg[0]}})
		},
	}
	ids.AddCommand(link, list, unlink)
	return ids
}

func customerName(c string) string { return "customers/" + strings.TrimPrefix(c, "customers/") }

func linkRows(links ...*handoffv1.IdentityLink) [][]string {
	rows := [][]string{{"NAME", "KIND", "NETWORK", "CREATED", "EXPIRES"}}
	for _, l := range links {
		rows = append(rows, []string{l.GetName(), strings.ToLower(strings.TrimPrefix(l.GetKind().String(), "IDENTITY_KIND_")),
			dash(l.GetNetwork()), stamp(l.GetCreateTime().AsTime()), stamp(l.GetExpireTime().AsTime())})
	}
	return rows
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lookupCommand finds a caller's open journeys by the identity on screen.
func lookupCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "lookup IDENTITY",
		Short: "Find the open journeys of the customers linked to a phone number, address or handle (staff)",
		Long: `Lists each open journey of the customers linked to IDENTITY by its type
and step, and which answer to ask the caller for; the journey opens with
verify once the caller's answer matches. --channel says where the caller
is (phone, social, ...), as for every staff touch.`,
		Example: `  handoffctl lookup +31612345678 --channel phone`,
		Args:    args(1, "IDENTITY"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			l, err := a.ids.CreateIdentityLookup(a.call(cmd.Context()), &handoffv1.CreateIdentityLookupRequest{Identity: arg[0]})
			if err != nil {
				return err
			}
			rows := [][]string{{"LOOKUP", "MATCH", "TYPE", "STEP", "UPDATED", "ASK FOR"}}
			for _, m := range l.GetMatches() {
				ask := "- (no check: ask for a handoff code)"
				if m.GetCheckAnswer() != "" {
					ask = m.GetCheckAnswer()
					if label := m.GetCheckLabel()["en"]; label != "" {
						ask += " (" + label + ")"
					}
				}
				rows = append(rows, []string{l.GetName(), strconv.Itoa(int(m.GetMatch())), m.GetJourneyType(), dash(m.GetStep()), stamp(m.GetUpdateTime().AsTime()), ask})
			}
			if len(l.GetMatches()) == 0 {
				rows = append(rows, []string{l.GetName(), "-", "no open journey is linked to that identity", "", "", ""})
			}
			return a.print(l, rows)
		},
	}
}

// verifyCommand opens a match of a lookup with the caller's answer.
func verifyCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "verify LOOKUP MATCH ANSWER",
		Short:   "Open a journey a lookup found, with the answer the caller gives (as JSON, or else as text)",
		Example: `  handoffctl verify identityLookups/abc 1 1988 --channel phone`,
		Args:    args(3, "LOOKUP, MATCH and ANSWER"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			match, err := strconv.Atoi(arg[1])
			if err != nil || match < 1 {
				return &usageError{fmt.Errorf("MATCH %q: the match's number, from 1, as lookup lists it", arg[1])}
			}
			var v any = arg[2]
			if err := json.Unmarshal([]byte(arg[2]), &v); err != nil {
				v = arg[2] // not JSON: the text itself
			}
			answer, err := structpb.NewValue(v)
			if err != nil {
				return &usageError{fmt.Errorf("ANSWER: %w", err)}
			}
			j, err := a.ids.VerifyIdentityLookup(a.call(cmd.Context()), &handoffv1.VerifyIdentityLookupRequest{
				Name: "identityLookups/" + strings.TrimPrefix(arg[0], "identityLookups/"), Match: int32(match), Answer: answer})
			if err != nil {
				return err
			}
			return a.journey(j)
		},
	}
}
