package app_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// TestEveryRoleCallsEveryMethod runs every RPC as every kind of caller: what
// the permission matrix allows succeeds, anything else fails with
// PERMISSION_DENIED (the role may never) or NOT_FOUND (a customer reaching
// for another's journey) and changes nothing.
func TestEveryRoleCallsEveryMethod(t *testing.T) {
	h := start(t, memoryStore, withExampleTypes(t), withIdentityKeys(t))
	ids := h.identities()
	// lookup is the lookup VerifyIdentityLookup verifies: made before the
	// call (by the caller when it is staff), so a refusal is seen to change
	// nothing.
	var lookup string
	callers := []struct {
		name, token, principal string
		role                   handoffv1.Role
		own                    bool // the journey is the caller's own (or the role reaches every customer)
	}{
		{"the_customer_herself", c42Token, "c-42", handoffv1.Role_ROLE_CUSTOMER, true},
		{"another_customer", c1Token, "c-1", handoffv1.Role_ROLE_CUSTOMER, false},
		{"an_agent", aliceToken, "alice", handoffv1.Role_ROLE_AGENT, true},
		{"a_website", websiteToken, "shop-website", handoffv1.Role_ROLE_SERVICE, true},
		{"an_admin", adminToken, "root", handoffv1.Role_ROLE_ADMIN, true},
		{"an_analyst", kees, "kees", handoffv1.Role_ROLE_ANALYST, false},
	}
	type call func(ctx context.Context, j *handoffv1.Journey, code string) error
	methods := map[string]call{
		"CreateJourney": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.api.CreateJourney(ctx, &handoffv1.CreateJourneyRequest{Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "x"}})
			return err
		},
		"GetJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: j.GetName()})
			return err
		},
		"ListJourneys": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.api.ListJourneys(ctx, &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
			return err
		},
		"UpdateJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: j.GetName(), Step: "driver"}})
			return err
		},
		"CompleteJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.CompleteJourney(ctx, &handoffv1.CompleteJourneyRequest{Name: j.GetName()})
			return err
		},
		"AbandonJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.AbandonJourney(ctx, &handoffv1.AbandonJourneyRequest{Name: j.GetName()})
			return err
		},
		"HandoffJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.HandoffJourney(ctx, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
			return err
		},
		"RedeemHandoff": func(ctx context.Context, _ *handoffv1.Journey, code string) error {
			_, err := h.api.RedeemHandoff(ctx, &handoffv1.RedeemHandoffRequest{Code: code})
			return err
		},
		"ClaimJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.ClaimJourney(ctx, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
			return err
		},
		"ReleaseJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.ReleaseJourney(ctx, &handoffv1.ReleaseJourneyRequest{Name: j.GetName()})
			return err
		},
		"TransferJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.TransferJourney(ctx, &handoffv1.TransferJourneyRequest{Name: j.GetName(), ToAgent: "bob"})
			return err
		},
		"ListTouchpoints": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			_, err := h.api.ListTouchpoints(ctx, &handoffv1.ListTouchpointsRequest{Parent: j.GetName()})
			return err
		},
		"WatchJourney": func(ctx context.Context, j *handoffv1.Journey, _ string) error {
			stream, err := h.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
			if err == nil {
				_, err = stream.Recv()
			}
			return err
		},
		"DeleteCustomer": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.api.DeleteCustomer(ctx, &handoffv1.DeleteCustomerRequest{Name: "customers/c-42"})
			return err
		},
		"RevealAnswer": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			// Another customer's claim, so a refusal leaves c-42's list as it was.
			claim, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{Parent: "customers/c-2", Journey: &handoffv1.Journey{
				JourneyType: claimType, Data: structOf(t, map[string]any{"payment": map[string]any{"iban": anIBAN}})}})
			if err != nil {
				return err
			}
			_, err = h.api.RevealAnswer(ctx, &handoffv1.RevealAnswerRequest{Name: claim.GetName(), Path: "payment.iban", Reason: "checking the payout account"})
			return err
		},
		"CreateIdentityLink": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := ids.CreateIdentityLink(ctx, &handoffv1.CreateIdentityLinkRequest{Parent: "customers/c-42", IdentityLink: &handoffv1.IdentityLink{Identity: annasPhone}})
			return err
		},
		"ListIdentityLinks": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := ids.ListIdentityLinks(ctx, &handoffv1.ListIdentityLinksRequest{Parent: "customers/c-42"})
			return err
		},
		"DeleteIdentityLink": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			l, err := ids.CreateIdentityLink(as(t, websiteToken), &handoffv1.CreateIdentityLinkRequest{Parent: "customers/c-42", IdentityLink: &handoffv1.IdentityLink{Identity: "anna@example.com"}})
			if err != nil {
				return err
			}
			_, err = ids.DeleteIdentityLink(ctx, &handoffv1.DeleteIdentityLinkRequest{Name: l.GetName()})
			return err
		},
		"CreateIdentityLookup": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := ids.CreateIdentityLookup(ctx, &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
			return err
		},
		"VerifyIdentityLookup": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := ids.VerifyIdentityLookup(ctx, &handoffv1.VerifyIdentityLookupRequest{Name: lookup, Match: 1, Answer: structpb.NewStringValue("AB-123-C")})
			return err
		},
		"GetJourneyType": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.types().GetJourneyType(ctx, &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType})
			return err
		},
		"ListJourneyTypes": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.types().ListJourneyTypes(ctx, &handoffv1.ListJourneyTypesRequest{})
			return err
		},
		"GetJourneyTypeInsight": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.types().GetJourneyTypeInsight(ctx, &handoffv1.GetJourneyTypeInsightRequest{Name: "journeyTypes/" + claimType + "/insight"})
			return err
		},
		"CreateJourneyType": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			_, err := h.types().CreateJourneyType(ctx, &handoffv1.CreateJourneyTypeRequest{JourneyType: &handoffv1.JourneyType{
				Name: "journeyTypes/matrix-" + strings.ToLower(rand.Text()[:8]), Steps: []*handoffv1.JourneyStep{{Id: "only"}}}})
			return err
		},
		"UpdateJourneyType": func(ctx context.Context, _ *handoffv1.Journey, _ string) error {
			def, err := h.types().GetJourneyType(as(t, adminToken), &handoffv1.GetJourneyTypeRequest{Name: "journeyTypes/" + claimType})
			if err != nil {
				return err
			}
			_, err = h.types().UpdateJourneyType(ctx, &handoffv1.UpdateJourneyTypeRequest{JourneyType: def})
			return err
		},
	}
	services := map[string]grpc.ServiceDesc{}
	for _, desc := range []grpc.ServiceDesc{handoffv1.JourneyService_ServiceDesc, handoffv1.JourneyTypeService_ServiceDesc, handoffv1.IdentityService_ServiceDesc} {
		for _, m := range desc.Methods {
			require.Contains(t, methods, m.MethodName, "a new RPC needs a row here")
			services[m.MethodName] = desc
		}
		for _, s := range desc.Streams {
			require.Contains(t, methods, s.StreamName, "a new RPC needs a row here")
			services[s.StreamName] = desc
		}
	}

	for method, do := range methods {
		full := "/" + services[method].ServiceName + "/" + method
		for _, c := range callers {
			t.Run(method+"_by_"+c.name, func(t *testing.T) {
				j := newJourney(t, h, "c-42")
				offer, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
				require.NoError(t, err)
				if (method == "ReleaseJourney" || method == "TransferJourney") && (c.role == handoffv1.Role_ROLE_AGENT || c.role == handoffv1.Role_ROLE_ADMIN) {
					_, err := h.api.ClaimJourney(as(t, c.token), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
					require.NoError(t, err)
				}
				if method == "CreateIdentityLookup" || method == "VerifyIdentityLookup" {
					_, err := ids.CreateIdentityLink(as(t, websiteToken), &handoffv1.CreateIdentityLinkRequest{Parent: "customers/c-42", IdentityLink: &handoffv1.IdentityLink{Identity: annasPhone}})
					require.NoError(t, err)
				}
				if method == "VerifyIdentityLookup" {
					looker := aliceToken
					if c.role == handoffv1.Role_ROLE_ADMIN || c.role == handoffv1.Role_ROLE_AGENT {
						looker = c.token
					}
					// The newest journey, j, is the first match.
					l, err := ids.CreateIdentityLookup(as(t, looker), &handoffv1.CreateIdentityLookupRequest{Identity: annasPhone})
					require.NoError(t, err)
					lookup = l.GetName()
				}
				before, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
				require.NoError(t, err)
				beforeTimeline := len(timeline(t, h, j.GetName()))
				beforeList, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
				require.NoError(t, err)

				err = do(as(t, c.token), j, offer.GetCode())

				allowed := auth.Allowed(c.role, full)
				// Journey types belong to no customer: every caller allowed
				// reaches them.
				own := c.own || services[method].ServiceName == handoffv1.JourneyTypeService_ServiceDesc.ServiceName
				switch {
				case allowed && own:
					require.NoError(t, err)
					return
				case allowed:
					require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
				default:
					require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
				}
				after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
				require.NoError(t, err, "a refused call must not erase anything")
				require.Equal(t, before.GetRevision(), after.GetRevision(), "a refused call changed the journey")
				require.Len(t, timeline(t, h, j.GetName()), beforeTimeline)
				afterList, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
				require.NoError(t, err)
				require.Len(t, afterList.GetJourneys(), len(beforeList.GetJourneys()))
			})
		}
	}
}
