package service

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// Metadata keys (HTTP headers through the gateway) that say where a call
// comes from when the request does not.
const (
	ChannelHeader       = "x-handoff-channel"
	ChannelDetailHeader = "x-handoff-channel-detail"
)

// maxChannelDetail is the staff's free detail, as long as the request field
// allows (its max_len in the proto).
const maxChannelDetail = 64

// sourceDetail is the detail a caller that is not staff may state: the name
// of a source (`whatsapp`, `ivr-main`), never a sentence that could pass for
// a staff member's note ("agent-1 verified caller").
var sourceDetail = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

// channelOf decides the channel a touch is recorded on: the request field,
// else the header, else where that role usually works from. Which role may
// state which channel, and whose detail is recorded as written, is
// auth.ChannelRuleOf's table; this applies it. A refused channel or detail
// fails the call before anything is written.
func channelOf(ctx context.Context, p auth.Principal, field handoffv1.Channel, detail string) (handoffv1.Channel, string, error) {
	rule, ok := auth.ChannelRuleOf(p.Role)
	if !ok {
		return 0, "", apierr.PermissionDenied("a %s cannot record a touch on a journey", roleName(p.Role))
	}
	ch, from := field, "channel"
	if ch == handoffv1.Channel_CHANNEL_UNSPECIFIED {
		if v := metadata.ValueFromIncomingContext(ctx, ChannelHeader); len(v) > 0 && v[0] != "" {
			ch, from = ParseChannel(v[0]), ChannelHeader
			if ch == handoffv1.Channel_CHANNEL_UNSPECIFIED {
				return 0, "", invalidArgument(ChannelHeader, "UNKNOWN_CHANNEL", "unknown channel: use web, app, phone, chat, social, email or in_person")
			}
		}
	}
	switch {
	case ch == handoffv1.Channel_CHANNEL_UNSPECIFIED:
		ch = rule.Default
	case !rule.Allows(ch):
		return 0, "", apierr.PermissionDenied("%s: a %s may state only %s, not %s (the other channels are staff desks, recorded by agents and by the services that run them)",
			from, roleName(p.Role), orList(rule.Channels), channelName(ch))
	}
	from = "channel_detail"
	if detail == "" {
		if v := metadata.ValueFromIncomingContext(ctx, ChannelDetailHeader); len(v) > 0 {
			detail, from = v[0], ChannelDetailHeader
		}
	}
	detail, err := recordedDetail(p.Role, rule, detail, from)
	if err != nil {
		return 0, "", err
	}
	return ch, detail, nil
}

// recordedDetail is the channel detail as the timeline records it: staff's
// as written, anyone else's checked to be a source name and labelled with
// their role (`customer: whatsapp`), so a reader can tell who said it. A
// header is refused like the field it stands in for, not dropped, so a
// caller learns its detail was not recorded.
func recordedDetail(role handoffv1.Role, rule auth.ChannelRule, detail, from string) (string, error) {
	switch {
	case detail == "":
		return "", nil
	case rule.FreeDetail:
		if !utf8.ValidString(detail) || utf8.RuneCountInString(detail) > maxChannelDetail {
			return "", invalidArgument(from, "INVALID_CHANNEL_DETAIL", "channel detail must be text of at most 64 characters")
		}
		return detail, nil
	case !sourceDetail.MatchString(detail):
		return "", invalidArgument(from, "CHANNEL_DETAIL_NOT_A_SOURCE", "a "+roleName(role)+"'s channel detail names where the call comes from, like whatsapp or ivr-main: "+
			"1 to 32 letters, digits, '.', '_' or '-' (it is recorded as \""+roleName(role)+": whatsapp\")")
	}
	return roleName(role) + ": " + detail, nil
}

// ParseChannel reads `phone`, `PHONE`, `CHANNEL_PHONE` or `in-person`; anything
// else is CHANNEL_UNSPECIFIED.
func ParseChannel(s string) handoffv1.Channel {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if !strings.HasPrefix(s, "CHANNEL_") {
		s = "CHANNEL_" + s
	}
	return handoffv1.Channel(handoffv1.Channel_value[s])
}

// channelName is a channel as the header spells it: `in_person`.
func channelName(ch handoffv1.Channel) string {
	return strings.ToLower(strings.TrimPrefix(ch.String(), "CHANNEL_"))
}

// roleName is a role as people say it: `customer`.
func roleName(r handoffv1.Role) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}

// orList is `web or app`, `web, app or phone`.
func orList(chs []handoffv1.Channel) string {
	names := make([]string, len(chs))
	for i, ch := range chs {
		names[i] = channelName(ch)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
