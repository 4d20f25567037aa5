package auth

import (
	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Rights are what a role may do with customers' journeys and cases once it
// may call a method at all (permissions.go), and what is recorded of it.
// The service asks RightsOf and keeps no role check of its own; which
// channels a role may state is channels.go's table.
type Rights struct {
	// EveryCustomer reaches every customer's journeys; without it a
	// principal reaches only those of the customer id it is.
	EveryCustomer bool
	// Audited means the role's reads are recorded on the journey (VIEWED):
	// staff reading a customer's data leave a trace the customer sees.
	Audited bool
	// Staff are the people the timeline is evidence about: their notes
	// are for colleagues.
	Staff bool
	// SeesStaffNotes sees those notes; a customer sees the journey, and who
	// helps them, without them.
	SeesStaffNotes bool
	// OwnCasesOnly keeps the role off cases another agent holds: it may not
	// save, release or transfer them (customers and websites keep saving:
	// the etag protects both sides).
	OwnCasesOnly bool
	// OverridesHolder may release or transfer a case anyone holds, and
	// take one over (recorded as TAKEN_OVER).
	OverridesHolder bool
	// SeesSensitiveAnswers reads the answers a journey type declares
	// sensitive as they are; everyone else reads them masked until an
	// agent reveals one (docs/journeytypes.md).
	SeesSensitiveAnswers bool
}

// rights is THE table of what each role may do with cases. A role missing
// here (ROLE_UNSPECIFIED) has no rights at all.
//
//   - A customer reaches only their own journeys and sees them without
//     the notes staff leave each other, and alone sees their sensitive
//     answers (an IBAN) unmasked: everyone else must reveal one, on the
//     record.
//   - A service (a website or app backend, a voice-response backend) works
//     for every customer; its saves are the customer's progress, not a
//     staff read, so they are not recorded as views. It is trusted with
//     staff notes, as a configured deployment is.
//   - An agent, on any desk, works for every customer, and their reads are
//     recorded; one agent keeps off another's case.
//   - An admin is a supervisor: recorded like an agent, and may release,
//     transfer or take over anyone's case.
//   - An analyst reads journey insight only (no journey, no case), so it
//     has no rights here at all.
//   - The system is handoff itself (a lapsed claim released): it calls
//     nothing, but its notes name agents, so they are staff notes.
var rights = map[handoffv1.Role]Rights{
	roleCustomer:               {SeesSensitiveAnswers: true},
	roleService:                {EveryCustomer: true, SeesStaffNotes: true},
	roleAgent:                  {EveryCustomer: true, Audited: true, Staff: true, SeesStaffNotes: true, OwnCasesOnly: true},
	roleAdmin:                  {EveryCustomer: true, Audited: true, Staff: true, SeesStaffNotes: true, OverridesHolder: true},
	handoffv1.Role_ROLE_SYSTEM: {Staff: true},
}

// RightsOf returns role's rights; none for a role not in the table.
func RightsOf(role handoffv1.Role) Rights { return rights[role] }
