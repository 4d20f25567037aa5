package testutil

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds how long a starting server may take to answer PING.
	readyTimeout = 5 * time.Second
	// stopTimeout bounds a graceful shutdown before it becomes a SIGKILL, so a
	// wedged server cannot hang the test binary.
	stopTimeout = 10 * time.Second
	// portAttempts is how often StartRedis picks a new port when another
	// process takes the chosen one between our probe and redis-server's bind.
	portAttempts = 5
)

// errPortTaken marks a start that failed only because the port was taken.
var errPortTaken = errors.New("port taken")

const notFoundMessage = `redis-server not found: install it with "apt-get install -y redis-server" (or run make test, which installs it)`

// Redis is a redis-server process owned by one test (or test binary).
type Redis struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string
	// certs, when set, make the server TLS-only (StartRedisTLS).
	certs *Certificates
	// sentinelConf, when set, runs a Sentinel with this config file
	// (StartRedisSentinel) instead of a data server.
	sentinelConf string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, valid after done
}

// StartRedis starts redis-server on a free loopback port, with its data dir
// in t.TempDir(), and stops it in t.Cleanup. extraArgs are appended to the
// defaults (--port N --bind 127.0.0.1 --save "" --appendonly no --dir <tmp>),
// so a later --appendonly yes wins. It returns once the server answers PING.
func StartRedis(t testing.TB, extraArgs ...string) *Redis {
	t.Helper()
	return startRedis(t, nil, freePort, extraArgs)
}

// StartRedisTLS starts redis-server as StartRedis does, but it serves only
// TLS (--port 0 --tls-port N), with certs' server certificate, and asks
// clients for no certificate. Addr is the TLS port, URL a rediss:// URL; a
// client must trust certs.Pool (or certs.CAFile).
func StartRedisTLS(t testing.TB, certs *Certificates, extraArgs ...string) *Redis {
	t.Helper()
	return startRedis(t, certs, freePort, extraArgs)
}

// startRedis starts a server on a port from pickPort (freePort, or one that
// leaves room for a Cluster node's bus port).
func startRedis(t testing.TB, certs *Certificates, pickPort func() (int, error), extraArgs []string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(notFoundMessage)
	}
	r := &Redis{tb: t, bin: bin, dir: t.TempDir(), args: extraArgs, certs: certs}
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(r.Stop)

	var errs []error
	for range portAttempts {
		port, err := pickPort()
		if err != nil {
			t.Fatalf("redis-server: find a free port: %v", err)
		}
		r.port = port
		p, err := r.launch()
		if err == nil {
			r.proc = p
			return r
		}
		errs = append(errs, err)
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("redis-server did not start:\n%v", errors.Join(errs...))
	return nil
}

// Addr is the server's address, "127.0.0.1:port".
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// URL is the server's address as a redis:// URL, or a rediss:// URL for a
// server from StartRedisTLS.
func (r *Redis) URL() string {
	if r.certs != nil {
		return "rediss://" + r.Addr()
	}
	return "redis://" + r.Addr()
}

// Stop shuts the server down with SIGTERM and waits for it to exit. Stopping
// a stopped server does nothing.
func (r *Redis) Stop() { r.halt(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash would: nothing is flushed.
func (r *Redis) Kill() { r.halt(syscall.SIGKILL) }

// Pause freezes the server (SIGSTOP): connections stay open and nothing
// answers, as when Redis hangs.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		_ = r.proc.cmd.Process.Signal(sig)
	}
}

// Start starts a stopped or killed server again on the same port and data
// dir, and returns once it answers PING. Starting a running server does
// nothing.
func (r *Redis) Start() {
	r.tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		select {
		case <-r.proc.done: // it died on its own: start it again
		default:
			return
		}
	}
	p, err := r.launch()
	if err != nil {
		r.tb.Fatalf("restart redis-server on %s: %v", r.Addr(), err)
	}
	r.proc = p
}

func (r *Redis) halt(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return
	}
	p := r.proc
	r.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on sig
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// launch runs redis-server and waits until it answers PING. On failure the
// process is gone and the error carries the server's output.
func (r *Redis) launch() (*process, error) {
	args := []string{"--port", strconv.Itoa(r.port)}
	var tlsCfg *tls.Config
	if r.certs != nil {
		args = []string{
			"--port", "0",
			"--tls-port", strconv.Itoa(r.port),
			"--tls-cert-file", r.certs.CertFile,
			"--tls-key-file", r.certs.KeyFile,
			// Required even when clients show no certificate.
			"--tls-ca-cert-file", r.certs.CAFile,
			"--tls-auth-clients", "no",
		}
		tlsCfg = &tls.Config{RootCAs: r.certs.Pool, MinVersion: tls.VersionTLS12}
	}
	if r.sentinelConf != "" {
		// The config file must come first; a Sentinel keeps no data.
		args = append([]string{r.sentinelConf, "--sentinel"}, args...)
		args = append(args, "--bind", "127.0.0.1", "--dir", r.dir)
	} else {
		args = append(args,
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", r.dir,
		)
	}
	args = append(args, r.args...)
	p := &process{cmd: exec.Command(r.bin, args...), out: &SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", r.bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(readyTimeout)
	for {
		err := ping(r.Addr(), tlsCfg)
		if err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			out := p.out.String()
			if strings.Contains(out, "Address already in use") {
				// Someone took the port after freePort released it.
				err = errPortTaken
			}
			return nil, fmt.Errorf("redis-server on port %d exited (%v, %w); its output:\n%s", r.port, p.err, err, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.cmd.Process.Kill()
			<-p.done
			return nil, fmt.Errorf("redis-server on port %d did not answer PING within %s (last: %v); its output:\n%s", r.port, readyTimeout, err, p.out)
		}
	}
}

// ping sends one inline PING, over TLS when tlsCfg is set. A server that
// wants a password (NOAUTH) is up too; one still loading its data (LOADING)
// is not.
func ping(addr string, tlsCfg *tls.Config) error {
	var conn net.Conn
	var err error
	if tlsCfg != nil {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, tlsCfg)
	} else {
		conn, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimSpace(line)
	if line == "+PONG" || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING answered %q", line)
}

// freePort asks the kernel for a free port. It is free only until someone
// else takes it, hence the retries in StartRedis.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// SyncBuffer collects output written from other goroutines (a server's
// output, a logger's lines) while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
