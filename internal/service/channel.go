package service

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// Metadata keys (HTTP headers through the gateway) that say where a call
// comes from when the request does not.
const (
	ChannelHeader       = "x-handoff-channel"
	ChannelDetailHeader = "x-handoff-channel-detail"
)

const maxChannelDetail = 64

// channelOf decides the channel a touch is recorded on: the request field,
// else the header, else where that role usually works from.
func channelOf(ctx context.Context, p auth.Principal, field handoffv1.Channel, detail string) (handoffv1.Channel, string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ch := field
	if ch == handoffv1.Channel_CHANNEL_UNSPECIFIED {
		if v := md.Get(ChannelHeader); len(v) > 0 && v[0] != "" {
			ch = ParseChannel(v[0])
			if ch == handoffv1.Channel_CHANNEL_UNSPECIFIED {
				return 0, "", invalidArgument(ChannelHeader, "unknown channel: use web, app, phone, chat, social, email or in_person")
			}
		}
	}
	if ch == handoffv1.Channel_CHANNEL_UNSPECIFIED {
		switch p.Role {
		case handoffv1.Role_ROLE_AGENT, handoffv1.Role_ROLE_ADMIN:
			ch = handoffv1.Channel_CHANNEL_PHONE
		default:
			ch = handoffv1.Channel_CHANNEL_WEB
		}
	}
	if detail == "" {
		if v := md.Get(ChannelDetailHeader); len(v) > 0 && len(v[0]) <= maxChannelDetail {
			detail = v[0]
		}
	}
	return ch, detail, nil
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
