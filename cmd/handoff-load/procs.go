package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/config"
)

// startTimeout bounds how long a child may take to start listening; a
// loaded machine and a cold build cache are slow, so it is generous.
const startTimeout = 60 * time.Second

// stopTimeout bounds a graceful stop (handoffd waits up to 15 s for calls in
// flight) before it becomes SIGKILL.
const stopTimeout = 20 * time.Second

// child is a process the driver started and must stop.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr
	done chan struct{}
	err  error // cmd.Wait's result, once done is closed
}

// spawn starts cmd with its output in dir/<name>.log. The child is killed
// if the driver dies first (Pdeathsig), so an interrupted run leaves no
// redis-server or handoffd behind.
func spawn(dir, name string, cmd *exec.Cmd) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// await polls ready until it holds, and fails when the child exits first
// or startTimeout passes (what says what it was waiting for). The caller
// stops the child on failure.
func (c *child) await(ctx context.Context, what string, ready func() bool) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if ready() {
			return nil
		}
		if done, err := c.exited(); done {
			return fmt.Errorf("%s exited (%v):\n%s", c.name, err, c.tail())
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not %s within %s:\n%s", c.name, what, startTimeout, c.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exited reports whether the child has ended, and how.
func (c *child) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// stop ends the child with SIGTERM, or SIGKILL after timeout.
func (c *child) stop(timeout time.Duration) error {
	if done, _ := c.exited(); done {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		var exit *exec.ExitError
		if errors.As(c.err, &exit) && exit.Exited() && exit.ExitCode() != 0 {
			return fmt.Errorf("%s exited with %d; see %s", c.name, exit.ExitCode(), c.log)
		}
		return nil
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", c.name, timeout)
	}
}

// tail is the end of the child's log, for error messages.
func (c *child) tail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// freePort asks the kernel for a port that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// redisServer is the benchmark's own redis-server: loopback only, no
// persistence, so disk writes do not blur the figures; and with the
// listpack limit production should set (docs/layout.md, "Redis's compact
// encoding"), -redis-listpack-value.
type redisServer struct {
	*child
	addr string
}

func startRedis(ctx context.Context, bin, dir string, listpackValue int) (*redisServer, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found: install it with \"apt-get install -y redis-server\" (or run make deps): %w", bin, err)
	}
	var errs []error
	// Another process may take the port between the probe and the bind.
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		c, err := spawn(dir, "redis-server", exec.Command(path,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--hash-max-listpack-value", strconv.Itoa(listpackValue)))
		if err != nil {
			return nil, err
		}
		r := &redisServer{child: c, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		if err := r.waitReady(ctx); err != nil {
			_ = c.stop(5 * time.Second)
			errs = append(errs, err)
			continue
		}
		return r, nil
	}
	return nil, errors.Join(errs...)
}

func (r *redisServer) url() string { return "redis://" + r.addr }

func (r *redisServer) waitReady(ctx context.Context) error {
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	return r.await(ctx, "answer PING on "+r.addr, func() bool { return c.Ping(ctx).Err() == nil })
}

// buildHandoffd compiles cmd/handoffd into dir, so the figures are those of
// the real binary.
func buildHandoffd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "handoffd")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/journeyhandoff/handoff/cmd/handoffd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build handoffd: %w\n%s", err, out)
	}
	return bin, nil
}

// handoffd is a running handoffd and the addresses it bound.
type handoffd struct {
	*child
	grpcAddr, httpAddr string
	debugAddr          string // pprof, when asked for
}

// handoffdArgs are the flags the driver runs handoffd with: ports chosen by
// the kernel, the benchmark's Redis and tokens, pprof on loopback when a
// profile is wanted, everything else default.
func handoffdArgs(redisURL, tokensFile string, debug bool) []string {
	args := []string{
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--redis-url", redisURL, "--tokens-file", tokensFile,
	}
	if debug {
		args = append(args, "--debug-addr", "127.0.0.1:0")
	}
	return args
}

// startHandoffd runs cmd and waits for its "handoffd serving" log line,
// which names the ports it bound. The child's environment has no HANDOFF_*
// settings of the shell that ran the driver, so only the flags count.
func startHandoffd(ctx context.Context, dir, name string, cmd *exec.Cmd) (*handoffd, error) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = withoutHandoffEnv(cmd.Env)
	c, err := spawn(dir, name, cmd)
	if err != nil {
		return nil, err
	}
	var hd *handoffd
	err = c.await(ctx, `log "handoffd serving"`, func() bool {
		var ok bool
		hd, ok = servingAddrs(c.log)
		return ok
	})
	if err != nil {
		_ = c.stop(5 * time.Second)
		return nil, err
	}
	hd.child = c
	return hd, nil
}

// servingAddrs reads handoffd's JSON log up to its "handoffd serving"
// line, which names the API ports; the pprof port, if any, comes before.
func servingAddrs(logPath string) (*handoffd, bool) {
	f, err := os.Open(logPath)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	hd := &handoffd{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			GRPCAddr  string `json:"grpc_addr"`
			HTTPAddr  string `json:"http_addr"`
			DebugAddr string `json:"debug_addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line.DebugAddr != "" {
			hd.debugAddr = line.DebugAddr
		}
		if line.Msg == "handoffd serving" && line.GRPCAddr != "" {
			hd.grpcAddr, hd.httpAddr = line.GRPCAddr, line.HTTPAddr
			return hd, true
		}
	}
	return nil, false
}

// withoutHandoffEnv drops handoffd's settings (HANDOFF_*) from env, but not
// the driver's own (HANDOFF_LOAD_*), which no handoffd flag is named after.
func withoutHandoffEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, config.EnvPrefix) || strings.HasPrefix(kv, "HANDOFF_LOAD_") {
			out = append(out, kv)
		}
	}
	return out
}

// roleEnv tells a re-executed driver which helper process to be.
const roleEnv = "HANDOFF_LOAD_ROLE"

// roleEmptyGRPC is the helper role of the floor's gRPC server.
const roleEmptyGRPC = "empty-grpc"

// reexec is a command running this very binary in a helper role.
func reexec(role string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	return cmd, nil
}

// emptyServer is the floor: a bare grpc-go server in its own process,
// answering the health service's Check and nothing else.
type emptyServer struct {
	*child
	addr string
}

// startEmptyServer starts the floor's server, with env (the relay's, see
// relayEnv).
func startEmptyServer(ctx context.Context, dir string, env []string) (*emptyServer, error) {
	return startRole(ctx, dir, roleEmptyGRPC, env...)
}

// startRole runs this binary in a helper role, with env added, that prints
// "listening <address>" first.
func startRole(ctx context.Context, dir, role string, env ...string) (*emptyServer, error) {
	cmd, err := reexec(role)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, env...)
	c, err := spawn(dir, role, cmd)
	if err != nil {
		return nil, err
	}
	var addr string
	err = c.await(ctx, `log "listening <address>"`, func() bool {
		// The whole first line: the address may still be being written.
		b, _ := os.ReadFile(c.log)
		first, _, complete := strings.Cut(string(b), "\n")
		var ok bool
		addr, ok = strings.CutPrefix(first, "listening ")
		return ok && complete
	})
	if err != nil {
		_ = c.stop(5 * time.Second)
		return nil, err
	}
	return &emptyServer{child: c, addr: addr}, nil
}
