package auth

import (
	"slices"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// ChannelRule is what callers of one role may say about where their calls
// come from. Staff read the timeline as evidence ("the caller was verified
// on the phone"), so a channel on it must be one the caller could really
// have been on.
type ChannelRule struct {
	// Channels are those the role may state, in a request's channel field
	// or the x-handoff-channel header.
	Channels []handoffv1.Channel
	// Default is the channel of a call that states none.
	Default handoffv1.Channel
	// FreeDetail means the role's channel detail is recorded as written.
	// Without it the detail may only name a source (`whatsapp`, `ivr-main`)
	// and is recorded labelled with the role, so nobody who is not staff can
	// write a sentence that reads like a staff member's.
	FreeDetail bool
}

// Allows reports whether the rule lets the role state ch.
func (r ChannelRule) Allows(ch handoffv1.Channel) bool {
	return slices.Contains(r.Channels, ch)
}

// customerChannels are the channels a customer reaches on their own; every
// other channel is a staff desk.
var customerChannels = []handoffv1.Channel{
	handoffv1.Channel_CHANNEL_WEB,
	handoffv1.Channel_CHANNEL_APP,
}

// everyChannel is written out rather than read from the enum, so a new
// channel is stated by nobody until someone decides who may state it (and
// TestChannelRules_matrix fails until they do).
var everyChannel = []handoffv1.Channel{
	handoffv1.Channel_CHANNEL_WEB,
	handoffv1.Channel_CHANNEL_APP,
	handoffv1.Channel_CHANNEL_PHONE,
	handoffv1.Channel_CHANNEL_CHAT,
	handoffv1.Channel_CHANNEL_SOCIAL,
	handoffv1.Channel_CHANNEL_EMAIL,
	handoffv1.Channel_CHANNEL_IN_PERSON,
}

// channelRules is THE table of which channels each role may state; the
// service applies it to every touch (channelOf). A role missing here may
// state no channel at all, so every call it makes that records a touch is
// refused.
//
//   - A customer token is held by the customer's own browser or app: it may
//     only say web or app. Claiming the phone or the shop would put a
//     staff-looking entry on the timeline.
//   - A service is a configured deployment, not an end user: a website or
//     app backend (web, app), but also a voice-response backend saving on
//     PHONE or a chatbot on CHAT. It may state any channel, but its detail
//     is labelled like a customer's, since nobody on staff wrote it.
//   - Agents (on every desk) and admins state any channel, with free detail
//     (`agent-1 verified caller`): they are the people the timeline is
//     evidence about.
var channelRules = map[handoffv1.Role]ChannelRule{
	roleCustomer: {Channels: customerChannels, Default: handoffv1.Channel_CHANNEL_WEB},
	roleService:  {Channels: everyChannel, Default: handoffv1.Channel_CHANNEL_WEB},
	roleAgent:    {Channels: everyChannel, Default: handoffv1.Channel_CHANNEL_PHONE, FreeDetail: true},
	roleAdmin:    {Channels: everyChannel, Default: handoffv1.Channel_CHANNEL_PHONE, FreeDetail: true},
}

// ChannelRuleOf returns the channel rule of role; false for a role that may
// state no channel (ROLE_UNSPECIFIED, ROLE_SYSTEM).
func ChannelRuleOf(role handoffv1.Role) (ChannelRule, bool) {
	r, ok := channelRules[role]
	return r, ok
}
