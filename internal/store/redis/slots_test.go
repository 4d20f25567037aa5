package redis_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store/redis"
)

// scriptWatch follows MONITOR on every primary of a cluster and checks each
// command a script runs: every key it touches must be in the slot of the
// script's declared keys. Redis 7.0 refuses a script's key on another node
// ("non local key") but not one in another slot of the same node, so a
// script that strayed could pass a suite on a cluster by luck of where the
// slots are; MONITOR shows it either way.
type scriptWatch struct {
	commands map[string]*goredis.CommandInfo // by lower-case name: where a command's keys are

	mu     sync.Mutex
	ran    map[string]int // script name → runs seen
	strays []string       // what touched another slot, said in full

	primaries []*goredis.Client
	marker    string
	readers   sync.WaitGroup
	conns     []net.Conn
	errs      []error
}

// watchScripts starts following every primary of the cluster cc.
func watchScripts(t *testing.T, cc *goredis.ClusterClient) *scriptWatch {
	t.Helper()
	ctx := t.Context()
	commands, err := cc.Command(ctx).Result()
	require.NoError(t, err)
	w := &scriptWatch{commands: commands, ran: map[string]int{}, marker: "end-of-watch-" + rand.Text()}
	var mu sync.Mutex
	require.NoError(t, cc.ForEachMaster(ctx, func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		w.primaries = append(w.primaries, c)
		return nil
	}))
	for _, p := range w.primaries {
		conn, err := net.DialTimeout("tcp", p.Options().Addr, time.Second)
		require.NoError(t, err)
		w.conns = append(w.conns, conn)
		_, err = conn.Write([]byte("MONITOR\r\n"))
		require.NoError(t, err)
		rd := bufio.NewReaderSize(conn, 1<<20)
		ok, err := rd.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", ok)
		w.readers.Add(1)
		go w.follow(p.Options().Addr, rd)
	}
	t.Cleanup(w.close)
	return w
}

// stop waits until each primary's monitor has passed the marker (so every
// command before it was seen), then closes the connections. It returns how
// often each script ran and every stray key access.
func (w *scriptWatch) stop(t *testing.T) (ran map[string]int, strays []string) {
	t.Helper()
	for _, p := range w.primaries {
		require.NoError(t, p.Echo(t.Context(), w.marker).Err())
	}
	w.readers.Wait()
	w.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.NoError(t, errors.Join(w.errs...))
	return w.ran, w.strays
}

func (w *scriptWatch) close() {
	for _, c := range w.conns {
		_ = c.Close()
	}
}

// follow reads one primary's monitor lines until the marker. Redis runs a
// script's commands one after the other, so they follow the EVAL or
// EVALSHA line that started them, from a client named "lua".
func (w *scriptWatch) follow(addr string, rd *bufio.Reader) {
	defer w.readers.Done()
	var script string // the name of the script whose commands follow, if any
	slot := -1        // the slot of its declared keys, -1 when it declared none
	counted := false  // whether this run of script was counted
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			w.fail(fmt.Errorf("monitor of %s: %w", addr, err))
			return
		}
		client, args, err := parseMonitorLine(strings.TrimSuffix(strings.TrimPrefix(line, "+"), "\r\n"))
		if err != nil {
			w.fail(fmt.Errorf("monitor of %s: %w", addr, err))
			return
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(args[0])
		if client != "lua" {
			if name == "echo" && len(args) == 2 && args[1] == w.marker {
				return
			}
			script, slot, counted = "", -1, false
			if (name == "eval" || name == "evalsha") && len(args) >= 3 {
				script = scriptName(name, args[1])
				if n, _ := strconv.Atoi(args[2]); n > 0 && len(args) > 3 {
					slot = keySlot(args[3])
				}
			}
			continue
		}
		if script == "" {
			w.fail(fmt.Errorf("monitor of %s: %q from a script, but no script started", addr, line))
			continue
		}
		w.mu.Lock()
		if !counted {
			// An EVALSHA answered NOSCRIPT runs nothing; the EVAL after it
			// does. So a run is counted at its first command.
			w.ran[script]++
			counted = true
		}
		for _, key := range w.keysOf(name, args) {
			if ks := keySlot(key); ks != slot {
				w.strays = append(w.strays, fmt.Sprintf("%s: %s %q is in slot %d, the script's declared keys in %d", script, args[0], key, ks, slot))
			}
		}
		w.mu.Unlock()
	}
}

func (w *scriptWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

// keysOf are the keys of a command, from the server's own command table
// (first key, last key, step), which holds for every command the scripts
// call. PUBLISH names a channel, not a key: its first key is 0.
func (w *scriptWatch) keysOf(name string, args []string) []string {
	info, ok := w.commands[name]
	if !ok || info.FirstKeyPos <= 0 {
		return nil
	}
	last := int(info.LastKeyPos)
	if last < 0 {
		last += len(args)
	}
	step := max(int(info.StepCount), 1)
	var keys []string
	for i := int(info.FirstKeyPos); i <= last && i < len(args); i += step {
		keys = append(keys, args[i])
	}
	return keys
}

// scriptName is the name the store gives the script an EVAL carries (by
// its body) or an EVALSHA names (by its SHA1).
func scriptName(cmd, arg string) string {
	sha := arg
	if cmd == "eval" {
		sum := sha1.Sum([]byte(arg))
		sha = hex.EncodeToString(sum[:])
	}
	if n, ok := redis.ScriptNames[strings.ToLower(sha)]; ok {
		return n
	}
	return "unknown script " + sha
}

// parseMonitorLine splits `<time> [<db> <client>] "arg" "arg"…` into the
// client ("lua" for a script's commands) and the unquoted arguments.
// Redis quotes each argument as C does (\", \\, \n, \xHH…), which
// strconv.Unquote reads.
func parseMonitorLine(line string) (client string, args []string, err error) {
	open, close := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
	if open < 0 || close < open {
		return "", nil, fmt.Errorf("no client in %q", line)
	}
	_, client, _ = strings.Cut(line[open+1:close], " ")
	rest := line[close+1:]
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return client, args, nil
		}
		if rest[0] != '"' {
			return "", nil, fmt.Errorf("unquoted argument in %q", line)
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(rest) {
			return "", nil, fmt.Errorf("unterminated argument in %q", line)
		}
		arg, err := strconv.Unquote(rest[:end+1])
		if err != nil {
			return "", nil, fmt.Errorf("argument %s: %w", rest[:end+1], err)
		}
		args = append(args, arg)
		rest = rest[end+1:]
	}
}

// keySlot is Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag,
// the part between the first { and the next }, when that is not empty, or
// else of the whole key, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := range len(key) {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// sortedNames lists a count's names, for messages.
func sortedNames(m map[string]int) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
