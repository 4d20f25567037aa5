// Command events-consumer reads handoff's events (docs/reach.md, "Events
// out") from their Redis Stream with a consumer group, as another system
// would (a CRM sync, a marketing tool), and prints one line per event:
//
//	go run ./examples/events-consumer --redis-url redis://localhost:6379 --group crm-sync
//
// A consumer group remembers what it was given and what it acknowledged:
// run several copies with one --group and different --consumer names to
// share the work; restart one and it first gets again what it was given
// and did not acknowledge, then new events. An event is acknowledged
// (XACK) only once handled, so a crash in between hands it out again:
// handle events so that twice is the same as once (the event id is the
// key). Events older than handoffd's --events-retention are trimmed, read
// or not.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// DefaultStream is the stream handoffd appends to with the default
// --redis-key-prefix (handoff:); its hash tag puts it in its own slot.
const DefaultStream = "handoff:{_events}:stream"

func main() {
	redisURL := flag.String("redis-url", "redis://localhost:6379", "the Redis handoffd uses (redis:// or rediss://)")
	stream := flag.String("stream", DefaultStream, "the events stream: <--redis-key-prefix>{_events}:stream")
	group := flag.String("group", "events-consumer", "consumer group: one per system that reads the events")
	consumer := flag.String("consumer", hostname(), "this consumer's name within the group")
	from := flag.String("from", "0", "where a new group starts: 0 for the oldest event kept, $ for new events only, or a stream id to replay from")
	flag.Parse()

	opts, err := redis.ParseURL(*redisURL)
	if err != nil {
		log.Fatalf("--redis-url: %v", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = Consume(ctx, rdb, Options{Stream: *stream, Group: *group, Consumer: *consumer, From: *from}, func(ev *handoffv1.JourneyEvent) error {
		return Print(os.Stdout, ev)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// Options say which stream to read, as which group and consumer.
type Options struct {
	Stream, Group, Consumer string
	// From is where the group starts when it does not exist yet.
	From string
	// Block is how long one read waits for new events; 0: 5 s.
	Block time.Duration
}

// Consume creates the group if it is missing (and the stream with it),
// then hands each event to handle and acknowledges it once handle
// returns nil, until ctx ends or handle fails. It first reads what this
// consumer was given before and did not acknowledge.
func Consume(ctx context.Context, rdb redis.UniversalClient, o Options, handle func(*handoffv1.JourneyEvent) error) error {
	if o.Block <= 0 {
		o.Block = 5 * time.Second
	}
	if o.From == "" {
		o.From = "0"
	}
	err := rdb.XGroupCreateMkStream(ctx, o.Stream, o.Group, o.From).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("creating group %s on %s: %w", o.Group, o.Stream, err)
	}
	// "0": this consumer's pending entries first; once none are left,
	// ">": entries never given to anyone in the group.
	next := "0"
	for {
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: o.Group, Consumer: o.Consumer, Streams: []string{o.Stream, next}, Count: 100, Block: o.Block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue // nothing new within Block
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading %s: %w", o.Stream, err)
		}
		var n int
		for _, s := range res {
			for _, msg := range s.Messages {
				n++
				ev, err := decode(msg)
				if err != nil {
					// Not ours to fix: say so, and do not hold the group up.
					log.Printf("skipping entry %s: %v", msg.ID, err)
				} else if err := handle(ev); err != nil {
					return fmt.Errorf("handling %s: %w", msg.ID, err)
				}
				if err := ack(ctx, rdb, o, msg.ID); err != nil {
					return fmt.Errorf("acknowledging %s: %w", msg.ID, err)
				}
			}
		}
		if next == "0" && n == 0 {
			next = ">"
		}
	}
}

// ack acknowledges a handled entry even when ctx has just ended: handled
// and not acknowledged, it would be handled again.
func ack(ctx context.Context, rdb redis.UniversalClient, o Options, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return rdb.XAck(ctx, o.Stream, o.Group, id).Err()
}

// decode reads an entry's `event` field, the event's protojson; its id
// is the entry's.
func decode(msg redis.XMessage) (*handoffv1.JourneyEvent, error) {
	raw, ok := msg.Values["event"].(string)
	if !ok {
		return nil, errors.New("no event field")
	}
	ev := &handoffv1.JourneyEvent{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(raw), ev); err != nil {
		return nil, err
	}
	ev.Id = msg.ID
	return ev, nil
}

// Print writes one line: id, type, journey (or customer), step.
func Print(w io.Writer, ev *handoffv1.JourneyEvent) error {
	subject := ev.GetJourney()
	if subject == "" {
		subject = "customers/" + ev.GetCustomer()
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ev.GetId(), ev.GetType(), subject, ev.GetStep())
	return err
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "consumer"
	}
	return h
}
