package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/store"
)

// While a primary is away, the feed looks for it again after a pause that
// doubles up to a second: back soon after it is, without spinning while it
// is not.
const (
	minResubscribeDelay = 50 * time.Millisecond
	maxResubscribeDelay = time.Second
)

// errFeedClosed is what Follow returns on a closed feed.
var errFeedClosed = errors.New("redis: the change feed is closed")

// feed implements store.Feed with sharded pub/sub: each journey has its own
// channel in its own slot (journeyChannel), and the feed subscribes to the
// channels of the journeys it follows, over one connection (link) per
// primary. See docs/watch.md, "The change log and the fan-out".
type feed struct {
	s      *Store
	handle store.ChangeHandler
	resync func()
	ctx    context.Context // ends at Close, with every link's receive loop
	cancel context.CancelFunc
	loops  sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	follows map[string]*follow // by channel
	links   map[string]*link   // by the primary's address ("" for a single Redis)
	pings   uint64             // numbers the PINGs that confirm subscriptions
	placing bool               // a placeLost runs
}

// follow is one followed channel.
type follow struct {
	key  store.JourneyKey
	refs int
	link *link // nil while it waits to be placed again (see placeLost)
	// ready is closed when Redis confirmed the subscription, or when the
	// link broke first (then a resync follows the placing again).
	ready chan struct{}
}

// link is one pub/sub connection to a primary.
type link struct {
	addr    string
	ps      *goredis.PubSub
	pings   map[string]chan struct{} // the ready each PING's PONG closes
	follows int                      // follows placed on it
	dead    bool
}

// OpenFeed implements store.Store.
func (s *Store) OpenFeed(handle store.ChangeHandler, resync func()) store.Feed {
	ctx, cancel := context.WithCancel(context.Background())
	return &feed{
		s: s, handle: handle, resync: resync, ctx: ctx, cancel: cancel,
		follows: map[string]*follow{}, links: map[string]*link{},
	}
}

// journeyChannel is the channel a journey's changes are published on. It
// carries the customer's hash tag, so on a Cluster it lives in the
// journey's slot and the scripts that publish on it stay in one slot.
func (s *Store) journeyChannel(k store.JourneyKey) string {
	return s.prefix + "{" + k.Customer + "}:ch:" + k.Journey
}

// Follow implements store.Feed. The first Follow of a journey subscribes
// to its channel and sends a PING behind the SSUBSCRIBE: Redis answers in
// order, so the PONG means the subscription is in place.
func (f *feed) Follow(ctx context.Context, key store.JourneyKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	channel := f.s.journeyChannel(key)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return errFeedClosed
	}
	fl := f.follows[channel]
	if fl == nil {
		fl = &follow{key: key, ready: make(chan struct{})}
		f.follows[channel] = fl
		if err := f.subscribe(ctx, channel, fl); err != nil {
			delete(f.follows, channel)
			f.mu.Unlock()
			return wrapErr(ctx, "follow", err)
		}
	}
	fl.refs++
	ready := fl.ready
	f.mu.Unlock()

	select {
	case <-ready:
		f.mu.Lock()
		closed := f.closed
		f.mu.Unlock()
		if closed {
			return errFeedClosed
		}
		return nil
	case <-ctx.Done():
		f.Unfollow(key)
		return ctx.Err()
	}
}

// subscribe subscribes channel on the link to its primary and sends the
// PING that will close fl.ready. Called with f.mu held.
func (f *feed) subscribe(ctx context.Context, channel string, fl *follow) error {
	l, err := f.linkFor(ctx, channel)
	if err != nil {
		return err
	}
	if err := l.ps.SSubscribe(ctx, channel); err != nil {
		f.drop(l)
		return err
	}
	f.pings++
	token := strconv.FormatUint(f.pings, 10)
	if err := l.ps.Ping(ctx, token); err != nil {
		f.drop(l)
		return err
	}
	l.pings[token] = fl.ready
	fl.link = l
	l.follows++
	return nil
}

// linkFor returns the link to the primary that holds channel, opening it
// when there is none. Called with f.mu held.
func (f *feed) linkFor(ctx context.Context, channel string) (*link, error) {
	addr := ""
	cluster, isCluster := f.s.client.(*goredis.ClusterClient)
	var primary *goredis.Client
	if isCluster {
		// The slot map is cached; it is reloaded when a node goes away.
		var err error
		if primary, err = cluster.MasterForKey(ctx, channel); err != nil {
			return nil, err
		}
		addr = primary.Options().Addr
	}
	if l := f.links[addr]; l != nil {
		return l, nil
	}
	if isCluster {
		// Right after a failover the cached map can still name the old
		// primary, now a replica: a subscription there is confirmed but
		// hears nothing. A link is opened only to a node that says it is
		// a primary; a link whose node stops being one loses its slots,
		// which ends its subscriptions (see unsubscribed).
		role, err := primary.Do(ctx, "ROLE").Slice()
		if err != nil {
			return nil, err
		}
		if len(role) == 0 || role[0] != "master" {
			cluster.ReloadState(ctx)
			return nil, fmt.Errorf("%w: the slot map names %s, which is no longer a primary", store.ErrUnavailable, addr)
		}
	}
	// A cluster's pub/sub connects to the primary of the first channel it
	// is given, so it is opened with this one; SSubscribe below repeats it,
	// which Redis answers twice and changes nothing.
	var ps *goredis.PubSub
	if isCluster {
		ps = cluster.SSubscribe(ctx, channel)
	} else {
		ps = f.s.client.SSubscribe(ctx)
	}
	l := &link{addr: addr, ps: ps, pings: map[string]chan struct{}{}}
	f.links[addr] = l
	f.loops.Add(1)
	go f.receive(l)
	return l, nil
}

// receive reads the link's messages until it breaks or the feed closes.
func (f *feed) receive(l *link) {
	defer f.loops.Done()
	for {
		msg, err := l.ps.Receive(f.ctx)
		if f.ctx.Err() != nil {
			return
		}
		if err != nil {
			// The primary went away (a failover), or go-redis reconnected
			// and Redis refused its resubscription (several slots in one
			// SSUBSCRIBE): place every channel afresh.
			f.mu.Lock()
			f.drop(l)
			f.mu.Unlock()
			return
		}
		switch m := msg.(type) {
		case *goredis.Pong:
			f.mu.Lock()
			if ready := l.pings[m.Payload]; ready != nil {
				delete(l.pings, m.Payload)
				signal(ready)
			}
			f.mu.Unlock()
		case *goredis.Subscription:
			if m.Kind == "sunsubscribe" {
				f.unsubscribed(l, m.Channel)
			}
		case *goredis.Message:
			f.deliver(m.Channel, []byte(m.Payload))
		}
	}
}

// deliver hands a change to the handler when its channel is followed and
// it is a change of the journey the channel is for.
func (f *feed) deliver(channel string, payload []byte) {
	f.mu.Lock()
	fl := f.follows[channel]
	f.mu.Unlock()
	if fl == nil {
		return // unfollowed since
	}
	c, err := f.s.decodeChange(payload)
	if err != nil || c.GetJourney().GetName() != fl.key.Name() {
		// Not a change (someone else publishing on our channel), one
		// sealed with a key this process does not hold, or one of
		// another journey.
		return
	}
	f.handle(c)
}

// unsubscribed handles a SUNSUBSCRIBE: the answer to an Unfollow, or Redis
// saying the channel's slot moved to another primary (a failover, a
// resharding). Then the whole link is dropped and its channels placed
// again: Redis 7.0 keeps such a channel on the connection's own list, so
// subscribing it again on the same connection is confirmed but hears
// nothing.
func (f *feed) unsubscribed(l *link, channel string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.follows[channel]
	if fl == nil || fl.link != l {
		return // unfollowed, or already placed elsewhere
	}
	// (Or this answers an Unfollow followed at once by a Follow, which
	// placing again does no harm to.)
	f.drop(l)
}

// drop closes a broken link and places its channels again. Called with
// f.mu held.
func (f *feed) drop(l *link) {
	if l.dead {
		return
	}
	f.close(l)
	for _, fl := range f.follows {
		if fl.link == l {
			fl.link = nil
		}
	}
	f.placeLater()
}

// close closes a link. A Follow still waiting for its PING there returns:
// the resync after placing its channel again covers what it might miss.
// Called with f.mu held.
func (f *feed) close(l *link) {
	l.dead = true
	if f.links[l.addr] == l {
		delete(f.links, l.addr)
	}
	_ = l.ps.Close()
	for _, ready := range l.pings {
		signal(ready)
	}
	clear(l.pings)
}

// signal closes ready unless it is closed already.
func signal(ready chan struct{}) {
	select {
	case <-ready:
	default:
		close(ready)
	}
}

// placeLater starts placeLost unless it runs already. Called with f.mu
// held.
func (f *feed) placeLater() {
	if f.placing || f.closed {
		return
	}
	f.placing = true
	f.loops.Add(1)
	go f.placeLost()
}

// placeLost subscribes every followed channel that has no link, on the
// link to its primary as the client now sees it, retrying while Redis is
// away; then it calls resync, since changes may have been published while
// the channels were not subscribed.
func (f *feed) placeLost() {
	defer f.loops.Done()
	delay := minResubscribeDelay
	for {
		if cluster, ok := f.s.client.(*goredis.ClusterClient); ok {
			// A primary went away or a slot moved: ask where they are now,
			// while waiting. A stale answer can name the old primary, now
			// a replica of the new one: it carries the shard's channels
			// too, so a subscription there still hears them.
			cluster.ReloadState(f.ctx)
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxResubscribeDelay)

		f.mu.Lock()
		var waits []chan struct{}
		failed := false
		for channel, fl := range f.follows {
			if fl.link != nil {
				continue
			}
			signal(fl.ready) // no Follow is left waiting on the old one
			fl.ready = make(chan struct{})
			if err := f.subscribe(f.ctx, channel, fl); err != nil {
				fl.link = nil
				signal(fl.ready)
				failed = true
				continue
			}
			waits = append(waits, fl.ready)
		}
		f.mu.Unlock()
		for _, ready := range waits {
			select {
			case <-ready:
			case <-f.ctx.Done():
				return
			}
		}

		f.mu.Lock()
		done := !failed
		for _, fl := range f.follows {
			if fl.link == nil {
				done = false
			}
		}
		if done {
			f.placing = false
		}
		f.mu.Unlock()
		if done {
			f.resync()
			return
		}
	}
}

// Unfollow implements store.Feed; after the last Unfollow of a journey
// the feed unsubscribes its channel.
func (f *feed) Unfollow(key store.JourneyKey) {
	channel := f.s.journeyChannel(key)
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.follows[channel]
	if fl == nil {
		return
	}
	if fl.refs--; fl.refs > 0 {
		return
	}
	delete(f.follows, channel)
	l := fl.link
	if l == nil || l.dead {
		return
	}
	if l.follows--; l.follows == 0 {
		// An idle link could outlive its node's time as a primary
		// unnoticed (no subscription of it would end): close it.
		f.close(l)
		return
	}
	// A failed write breaks the link, which its receive loop sees.
	_ = l.ps.SUnsubscribe(f.ctx, channel)
}

// Close implements store.Feed.
func (f *feed) Close() {
	f.mu.Lock()
	f.closed = true
	for _, l := range f.links {
		f.close(l)
	}
	for _, fl := range f.follows {
		signal(fl.ready)
	}
	f.mu.Unlock()
	f.cancel()
	f.loops.Wait()
}
