package auth

import (
	"slices"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Role shorthands, to keep the matrix readable.
const (
	roleCustomer = handoffv1.Role_ROLE_CUSTOMER
	roleAgent    = handoffv1.Role_ROLE_AGENT
	roleService  = handoffv1.Role_ROLE_SERVICE
	roleAdmin    = handoffv1.Role_ROLE_ADMIN
	roleAnalyst  = handoffv1.Role_ROLE_ANALYST
)

// permissions is THE permission matrix: the roles that may call each method,
// keyed by full gRPC method name. A method missing here is denied to every
// role, so a new RPC stays closed until someone decides who may call it (and
// TestAllowed_matrix fails until they do).
//
// This says which methods a role may call, not on whose journeys: a customer
// calling GetJourney still only reaches their own customer id, which the
// service checks with CustomerCanAccess.
//
// Staff on the social-media desk, in chat or in the shop are agents like the
// phone staff: the same role, so the same rights.
var permissions = map[string][]handoffv1.Role{
	// Reading and saving a journey: what the customer does on the website
	// (directly or through its backend) and the agent does on the phone.
	handoffv1.JourneyService_CreateJourney_FullMethodName:   {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_GetJourney_FullMethodName:      {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_ListJourneys_FullMethodName:    {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_UpdateJourney_FullMethodName:   {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_CompleteJourney_FullMethodName: {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_AbandonJourney_FullMethodName:  {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_ListTouchpoints_FullMethodName: {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyService_WatchJourney_FullMethodName:    {roleCustomer, roleAgent, roleService, roleAdmin},

	// A handoff code is something the customer carries to another channel.
	// An agent already has the journey (found by customer number) and hands a
	// case to a colleague by releasing it with a note, not with a code.
	handoffv1.JourneyService_HandoffJourney_FullMethodName: {roleCustomer, roleService, roleAdmin},

	// Taking and giving back a case is staff work; a customer or a website
	// backend never holds a case.
	handoffv1.JourneyService_RedeemHandoff_FullMethodName:  {roleAgent, roleAdmin},
	handoffv1.JourneyService_ClaimJourney_FullMethodName:   {roleAgent, roleAdmin},
	handoffv1.JourneyService_ReleaseJourney_FullMethodName: {roleAgent, roleAdmin},
	// Warm transfer is between staff: the holder (or a supervisor) passes
	// the case on.
	handoffv1.JourneyService_TransferJourney_FullMethodName: {roleAgent, roleAdmin},
	// Revealing a sensitive answer is a staff read on the record; the
	// customer reads their own answers unmasked anyway.
	handoffv1.JourneyService_RevealAnswer_FullMethodName: {roleAgent, roleAdmin},

	// Every role reads journey types: websites and the customer's own form
	// draw from them. Declaring them is configuration: an admin's.
	handoffv1.JourneyTypeService_GetJourneyType_FullMethodName:    {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyTypeService_ListJourneyTypes_FullMethodName:  {roleCustomer, roleAgent, roleService, roleAdmin},
	handoffv1.JourneyTypeService_CreateJourneyType_FullMethodName: {roleAdmin},
	handoffv1.JourneyTypeService_UpdateJourneyType_FullMethodName: {roleAdmin},

	// A customer links the identities they are reached by (a website
	// backend on their behalf, an admin on request); only staff find a
	// caller's journeys by one, and only the agent who looked up verifies.
	handoffv1.IdentityService_CreateIdentityLink_FullMethodName:   {roleCustomer, roleService, roleAdmin},
	handoffv1.IdentityService_ListIdentityLinks_FullMethodName:    {roleCustomer, roleService, roleAdmin},
	handoffv1.IdentityService_DeleteIdentityLink_FullMethodName:   {roleCustomer, roleService, roleAdmin},
	handoffv1.IdentityService_CreateIdentityLookup_FullMethodName: {roleAgent, roleAdmin},
	handoffv1.IdentityService_VerifyIdentityLookup_FullMethodName: {roleAgent, roleAdmin},

	// Journey insight is counts, rates and times with no customer, agent or
	// answer in them: what an analyst may read, and all they may.
	handoffv1.JourneyTypeService_GetJourneyTypeInsight_FullMethodName: {roleAnalyst, roleAdmin},

	// Erasure is irreversible: a supervisor's or operator's decision.
	handoffv1.JourneyService_DeleteCustomer_FullMethodName: {roleAdmin},
}

// Allowed reports whether a principal with role may call fullMethod
// (`/handoff.v1.JourneyService/GetJourney`). Methods not in the matrix, and
// ROLE_UNSPECIFIED, are never allowed.
func Allowed(role handoffv1.Role, fullMethod string) bool {
	return slices.Contains(permissions[fullMethod], role)
}
