package app_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// leanWatchConn opens WatchJourney streams on one HTTP/2 connection and
// reads only each change's revision. A benchmark's watchers share the
// machine with handoffd; grpc-go's client spends a goroutine, a wake-up and
// a full decode per watcher and change, more than the server spends sending
// it. This client spends one goroutine per connection and a varint per
// change, so what a benchmark measures is handoffd, as if its watchers ran
// elsewhere. It speaks only what a watch needs: written by hand on
// x/net/http2's framer because no client library reads streams without a
// goroutine each.
type leanWatchConn struct {
	conn net.Conn
	fr   *http2.Framer

	wmu      sync.Mutex // guards writes: w, fr's writes, enc
	w        *bufio.Writer
	enc      *hpack.Encoder
	encBuf   bytes.Buffer
	sendCond *sync.Cond // signalled when the server opens its window
	window   int64      // bytes the server lets us send on the connection
	nextID   uint32
	streams  map[uint32]*leanStream
	unacked  int // bytes received and not yet returned to the server's window
	readErr  error

	endedCount int
	lastStatus string
	started    atomic.Int64 // watches that received their first message

	authority, token string
	// arrived is called from the connection's reader, one change at a
	// time, with the watch's index and the change's revision.
	arrived func(watch int, revision int64)
}

type leanStream struct {
	watch   int
	buf     []byte // a message not yet whole
	ended   bool
	started bool // its first message arrived
}

// receiveWindow is what we let the server send before we return credit,
// per stream and per connection: watches receive far less than this in a
// benchmark, so a stream's window never needs topping up.
const receiveWindow = 1 << 30

func dialLeanWatch(tb testing.TB, addr, token string, arrived func(watch int, revision int64)) *leanWatchConn {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	c := &leanWatchConn{
		conn: conn, w: bufio.NewWriterSize(conn, 64<<10), window: 65535, nextID: 1,
		streams: map[uint32]*leanStream{}, authority: addr, token: token, arrived: arrived,
	}
	c.sendCond = sync.NewCond(&c.wmu)
	c.fr = http2.NewFramer(c.w, bufio.NewReaderSize(conn, 64<<10))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.SetReuseFrames() // a frame a change: garbage the server's process would collect
	c.enc = hpack.NewEncoder(&c.encBuf)

	c.wmu.Lock()
	_, err = c.w.WriteString(http2.ClientPreface)
	if err == nil {
		err = c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: receiveWindow})
	}
	if err == nil {
		err = c.fr.WriteWindowUpdate(0, receiveWindow-65535)
	}
	if err == nil {
		err = c.w.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		tb.Fatal(err)
	}
	go c.read()
	tb.Cleanup(func() { _ = c.conn.Close() })
	return c
}

// open starts watch number `watch` of journey name after revision after.
func (c *leanWatchConn) open(name string, after int64, watch int) error {
	req, err := proto.Marshal(&handoffv1.WatchJourneyRequest{Name: name, AfterRevision: after})
	if err != nil {
		return err
	}
	msg := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(req)))
	msg = append(msg, req...)

	c.wmu.Lock()
	defer c.wmu.Unlock()
	for c.window < int64(len(msg)) && c.readErr == nil {
		c.sendCond.Wait()
	}
	if c.readErr != nil {
		return c.readErr
	}
	id := c.nextID
	c.nextID += 2
	c.streams[id] = &leanStream{watch: watch}
	c.encBuf.Reset()
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":authority", c.authority},
		{":path", "/handoff.v1.JourneyService/WatchJourney"},
		{"content-type", "application/grpc"}, {"te", "trailers"},
		{"authorization", "Bearer " + c.token},
	} {
		if err := c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return err
		}
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.encBuf.Bytes(), EndHeaders: true}); err != nil {
		return err
	}
	if err := c.fr.WriteData(id, true, msg); err != nil {
		return err
	}
	c.window -= int64(len(msg))
	return c.w.Flush()
}

// ended is how many of this connection's watches ended, and the status of
// the last to end.
func (c *leanWatchConn) ended() (n int, status string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.endedCount, c.lastStatus
}

func (c *leanWatchConn) read() {
	err := c.readFrames()
	c.wmu.Lock()
	c.readErr = err
	c.sendCond.Broadcast()
	c.wmu.Unlock()
}

func (c *leanWatchConn) readFrames() error {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := c.write(func() error { return c.fr.WriteSettingsAck() }); err != nil {
					return err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := c.write(func() error { return c.fr.WritePing(true, f.Data) }); err != nil {
					return err
				}
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				c.wmu.Lock()
				c.window += int64(f.Increment)
				c.sendCond.Broadcast()
				c.wmu.Unlock()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				c.end(f.StreamID, f.PseudoValue("status")+" grpc-status "+headerValue(f, "grpc-status")+": "+headerValue(f, "grpc-message"))
			}
		case *http2.DataFrame:
			if err := c.data(f); err != nil {
				return err
			}
		case *http2.RSTStreamFrame:
			c.end(f.StreamID, "reset: "+f.ErrCode.String())
		case *http2.GoAwayFrame:
			return fmt.Errorf("server going away: %v", f.ErrCode)
		}
	}
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, h := range f.RegularFields() {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func (c *leanWatchConn) write(w func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := w(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *leanWatchConn) end(id uint32, status string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if s := c.streams[id]; s != nil && !s.ended {
		s.ended = true
		c.endedCount++
		c.lastStatus = status
	}
}

// data hands each whole gRPC message of the stream to arrived, and returns
// the connection's credit to the server in large steps.
func (c *leanWatchConn) data(f *http2.DataFrame) error {
	c.wmu.Lock()
	s := c.streams[f.StreamID]
	c.unacked += int(f.Length)
	var credit int
	if c.unacked > receiveWindow/4 {
		credit, c.unacked = c.unacked, 0
	}
	c.wmu.Unlock()
	if credit > 0 {
		if err := c.write(func() error { return c.fr.WriteWindowUpdate(0, uint32(credit)) }); err != nil {
			return err
		}
	}
	if s == nil {
		return fmt.Errorf("data on stream %d, which was never opened", f.StreamID)
	}
	b := f.Data()
	if len(s.buf) > 0 {
		s.buf = append(s.buf, b...)
		b = s.buf
	}
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			break
		}
		rev, err := leadingRevision(b[5 : 5+n])
		if err != nil {
			return err
		}
		if !s.started {
			s.started = true
			c.started.Add(1)
		}
		c.arrived(s.watch, rev)
		b = b[5+n:]
	}
	// The framer reuses its buffer: keep a partial message's own copy.
	s.buf = append(s.buf[:0], b...)
	return nil
}

// leadingRevision reads a JourneyChange's revision (field 1), which Go's
// protobuf encoder writes first.
func leadingRevision(msg []byte) (int64, error) {
	num, typ, n := protowire.ConsumeTag(msg)
	if n < 0 || num != 1 || typ != protowire.VarintType {
		return 0, errors.New("a change that does not start with its revision")
	}
	v, m := protowire.ConsumeVarint(msg[n:])
	if m < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	return int64(v), nil
}
