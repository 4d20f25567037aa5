package redis

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// The journey record, layout v2 (docs/layout.md): one hash per journey,
// its fields named here and only here. The scripts name them F.<name>,
// the change record's field tags R.<name> and their own arguments
// A.<name>, and newScript fills the values in from the declarations below,
// so nothing in Lua spells a field, a tag or a position Go could change
// without it noticing.

// recordVersion is the layout this code writes; a hash with another `v`
// (or none: v1 kept a protobuf body) is read by the code for its version
// and converted on its next write.
const recordVersion = "2"

// Hash fields of a v2 journey record.
const (
	fVersion         = "v"
	fEtag            = "rev"
	fRevision        = "seq"
	fIncarnation     = "inc"
	fType            = "type"
	fTypeVersion     = "tv" // the journey type version it was created with; absent: none
	fState           = "state"
	fStep            = "step"
	fChannel         = "ch"
	fChannelDetail   = "chd"
	fAssignee        = "asg"
	fAssigneeName    = "asgn"
	fAssigneeChannel = "asgc"
	fClaimExpire     = "cex" // µs
	fCreateTime      = "ct"  // µs
	fUpdateTime      = "ut"  // µs
	fExpireTime      = "et"  // µs
	fStepEtag        = "sv"
	fRemovedEtag     = "rmv"
	fAnswerCount     = "n"
	fAnswerBytes     = "sz"
	// The last reminder (docs/reach.md): when it was sent, and the expiry
	// (et) it was sent for, so a journey is reminded once per expiry. Both
	// absent on a journey never reminded, and on records written before.
	fReminderTime = "rmt" // µs
	fRemindedFor  = "rmf" // µs
	// What insight counts from (docs/insight.md): the entry channel (its
	// presence marks a journey counted), the furthest step's position,
	// the customer's last save and staff's last resume.
	fEntryChannel = "ech"
	fFurthest     = "fx"
	fCustomerSave = "cst" // µs
	fResumed      = "rsm" // µs
	// fAnswerPrefix starts an answer's field: `d:vehicle.plate`. Its value is
	// `<etag when written>.<position of the write's touchpoint>:<size>:<JSON,
	// or sealed JSON>`; answers written before positions were kept (or by a
	// write with no touchpoint) read `<etag>:<size>:<...>`.
	fAnswerPrefix = "d:"
	// fWritePrefix starts the fields of the last writes' ids: w0 … w7, the
	// write of revision r in slot r mod writeSlots.
	fWritePrefix = "w"
	writeSlots   = 8
	// fBody is v1's whole journey (protobuf); a record holding it is v1.
	fBody = "body"
)

// recordFields are the fields scripts name, by the Lua name the
// scripts use (F.etag, F.answer_prefix, ...).
var recordFields = map[string]string{
	"version": fVersion, "etag": fEtag, "revision": fRevision, "incarnation": fIncarnation,
	"type": fType, "type_version": fTypeVersion, "state": fState, "step": fStep, "channel": fChannel, "channel_detail": fChannelDetail,
	"assignee": fAssignee, "assignee_name": fAssigneeName, "assignee_channel": fAssigneeChannel,
	"claim_expire": fClaimExpire, "create_time": fCreateTime, "update_time": fUpdateTime, "expire_time": fExpireTime,
	"step_etag": fStepEtag, "removed_etag": fRemovedEtag, "answer_count": fAnswerCount, "answer_bytes": fAnswerBytes,
	"reminder_time": fReminderTime, "reminded_for": fRemindedFor,
	"entry_channel": fEntryChannel, "furthest": fFurthest, "customer_save": fCustomerSave, "resumed": fResumed,
	"answer_prefix": fAnswerPrefix, "write_prefix": fWritePrefix, "body": fBody, "record_version": recordVersion,
}

// The change record: what the change log keeps and the journey's channel
// carries, one per change (docs/layout.md, "Changes are deltas"). It is
// recordMarker followed by protobuf fields with these numbers. Go encodes
// the head (the journey's name first, then what changed); the scripts add
// the revision, the etag and the touchpoints, which only they know.
const (
	// recordMarker starts a v2 change. A v1 change (a JourneyChange, or
	// sealedChangeMagic) never starts with it: field number 0 is invalid.
	recordMarker = "\x02"

	recJourney    protowire.Number = 1 // string: the journey's name, in clear
	recRevision   protowire.Number = 2 // varint
	recEtag       protowire.Number = 3 // string
	recMeta       protowire.Number = 4 // bytes: a handoffv1.Journey of the changed fields but answers
	recMask       protowire.Number = 5 // repeated string: the change's update_mask, in order
	recAnswer     protowire.Number = 6 // repeated bytes: {1 path, 2 value as stored}; no value: removed
	recTouchpoint protowire.Number = 7 // repeated bytes: {1 name, 2 timeline entry}

	recAnswerPath  protowire.Number = 1
	recAnswerValue protowire.Number = 2
	recTouchName   protowire.Number = 1
	recTouchEntry  protowire.Number = 2
)

// recordTags are the change record's tags as the scripts write them
// (R.revision and so on: the key byte(s) of each field).
var recordTags = map[string]string{
	"marker":      recordMarker,
	"revision":    string(protowire.AppendTag(nil, recRevision, protowire.VarintType)),
	"etag":        string(protowire.AppendTag(nil, recEtag, protowire.BytesType)),
	"touchpoint":  string(protowire.AppendTag(nil, recTouchpoint, protowire.BytesType)),
	"touch_name":  string(protowire.AppendTag(nil, recTouchName, protowire.BytesType)),
	"touch_entry": string(protowire.AppendTag(nil, recTouchEntry, protowire.BytesType)),
}

// stampMark starts a timeline entry whose step the script wrote beside
// it: `\x00<step>\x00<touchpoint>`. A touchpoint, plain (protobuf, whose
// first byte is a field key, never 0) or sealed, never starts with it.
const stampMark = "\x00"

// args names the ARGV positions of one script. Go fills them through the
// indexes it returns; the script reads A.<name>. The last name may be
// `rest`: where a variable tail (touchpoints, answers) begins.
type args []string

func (a args) index(name string) int {
	i := slices.Index(a, name)
	if i < 0 {
		panic("script argument " + name + " is not declared")
	}
	return i
}

// make returns the argument slice of a call, the fixed part zeroed, with
// room for a tail.
func (a args) make(tail int) []any {
	out := make([]any, len(a), len(a)+tail)
	for i := range out {
		out[i] = ""
	}
	if a[len(a)-1] == "rest" {
		out = out[:len(a)-1]
	}
	return out
}

// luaString quotes s for Lua 5.1, whose strings know \ddd but not \x.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// prelude is what every v2 script starts with: the shared helpers
// (change.lua) and the constants they use.
func prelude() string {
	return "-- generated from internal/store/redis/record.go\n" +
		fmt.Sprintf("local WRITE_SLOTS = %d\nlocal STAMP = %s\n", writeSlots, luaString(stampMark)) + changeLua
}

// constant matches the names a script uses for the record's field names
// (F.etag), the change record's tags (R.revision)
// and their arguments' positions (A.etag).
var constant = regexp.MustCompile(`\b([FRA])\.([a-z_]+)\b`)

// newScript builds a v2 script: the prelude and its body, with every
// F.<name>, R.<name> and A.<name> replaced by its value: tables of them
// would be built anew on every call, which Redis's Lua pays for on every
// save.
func newScript(a args, body string) *goredis.Script {
	src := constant.ReplaceAllStringFunc(prelude()+body, func(m string) string {
		sub := constant.FindStringSubmatch(m)
		if sub[1] == "A" {
			return strconv.Itoa(a.index(sub[2]) + 1)
		}
		table := recordFields
		if sub[1] == "R" {
			table = recordTags
		}
		v, ok := table[sub[2]]
		if !ok {
			panic("a script names " + m + ", which record.go does not declare")
		}
		return luaString(v)
	})
	return goredis.NewScript(src)
}
