package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/store"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role, os.Stdout, os.Stderr))
	}
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "handoff-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "handoff-load:", err)
		os.Exit(1)
	}
}

// options are the driver's flags.
type options struct {
	duration, warmup time.Duration
	journeys         int
	scale            []int
	callers          int
	rate             float64
	maxInFlight      int
	conns            int
	hotWriters       int
	rounds           int
	agents           int
	mix              *loadgen.Mix
	soak             time.Duration
	soakEvery        time.Duration
	soakOnly         bool
	out              string
	cpuprofile       string
	handoffdBin      string
	redisServer      string
	listpackValue    int
	memorySample     int
	ring             int
	handoffdFlags    []string
	webhookSink      bool
	typedJourneys    bool
	versusFlags      []string
	versusBin        string
}

// versus says whether a second handoffd, B, runs beside the first.
func (o options) versus() bool { return len(o.versusFlags) > 0 || o.versusBin != "" }

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("handoff-load", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each phase's measurement")
	fs.IntVar(&o.journeys, "journeys", 100_000, "journeys preloaded for the workloads")
	scale := fs.String("scale", "10000,100000,1000000", "journey counts for the memory and growth table (comma-separated); -journeys is added")
	fs.IntVar(&o.callers, "callers", 64, "concurrent callers of the closed-loop phases")
	fs.Float64Var(&o.rate, "rate", 1000, "requests per second of the open-loop phases and the soak")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 256, "most requests outstanding in an open-loop phase")
	fs.IntVar(&o.conns, "conns", 4, "gRPC client connections callers are spread over (floor and handoffd alike)")
	fs.IntVar(&o.hotWriters, "hot-writers", 16, "concurrent writers of the one-journey phase")
	fs.IntVar(&o.agents, "agents", 64, "agent principals redeeming codes (journey i's is agent i mod agents)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds each load level's phases are interleaved in (each round runs every phase for -duration ÷ rounds)")
	mix := fs.String("mix", "save=70,get=20,handoff=10", "the mixed workload: save, get and handoff (+ redeem) weights")
	fs.DurationVar(&o.soak, "soak", 0, "length of the steady run checking that handoffd's heap and goroutines stay flat (0: none; the target asks for 10m)")
	fs.DurationVar(&o.soakEvery, "soak-every", 10*time.Second, "how often the soak samples handoffd")
	fs.BoolVar(&o.soakOnly, "soak-only", false, "preload -journeys and run only the soak (with -soak), writing only its section")
	fs.StringVar(&o.out, "out", "", "Markdown file to write the results to; an existing file keeps everything outside its <!-- handoff-load:… --> sections")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of handoffd's code under the 64-caller gRPC save load to this file, and its top entries to the report")
	fs.StringVar(&o.handoffdBin, "handoffd", "", "handoffd binary to measure (default: go build ./cmd/handoffd into a temporary directory)")
	fs.StringVar(&o.redisServer, "redis-server", "redis-server", "redis-server binary")
	fs.IntVar(&o.listpackValue, "redis-listpack-value", 1024, "redis-server's hash-max-listpack-value: the longest value a hash may hold and stay compact (Redis's default is 64)")
	fs.IntVar(&o.memorySample, "memory-sample", 500, "journeys sampled with MEMORY USAGE at each scale")
	readMask := fs.String("save-read-mask", strings.Join(saveReadMask, ","), "read_mask of the website's saves, as it asks for only the next etag (comma-separated); empty: the whole journey back")
	fs.IntVar(&o.ring, "ring", 1<<16, "requests each workload of a phase encodes before it runs and sends in turn (after the last, from the first again)")
	fs.Func("handoffd-flag", "one more flag for handoffd, e.g. -handoffd-flag=--events (repeatable)", func(v string) error {
		o.handoffdFlags = append(o.handoffdFlags, v)
		return nil
	})
	fs.BoolVar(&o.webhookSink, "webhook-sink", false, "run a webhook receiver that accepts every delivery and give handoffd a webhooks file naming it (what a webhook costs handoffd)")
	fs.Func("versus-flag", "start a second handoffd, B, on the same Redis with the driver's own flags for it (ports, Redis, tokens, journey types, webhooks; not -handoffd-flag's) and this one (repeatable; e.g. -versus-flag=--insight=false), and measure its gRPC saves and gets at -callers right after the first's in each round (rows \"gRPC B\"), so that what differs is measured under the same neighbours", func(v string) error {
		o.versusFlags = append(o.versusFlags, v)
		return nil
	})
	fs.StringVar(&o.versusBin, "versus-handoffd", "", "handoffd B's binary (default: the first's); starts B as -versus-flag does, e.g. a build before a change")
	fs.BoolVar(&o.typedJourneys, "typed-journeys", false, "journeys of a declared journey type (bench-quote.yaml, built in; handoffd loads it with --journey-types-dir), their answers grouped under its steps, and at the end what insight counted for them (make bench-insight); without it journeys are of no declared type, which insight does not count")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	saveReadMask = nil
	if *readMask != "" {
		saveReadMask = strings.Split(*readMask, ",")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.mix, err = loadgen.ParseMix(*mix); err != nil {
		return o, err
	}
	for _, s := range o.mix.Shares() {
		if _, ok := workloadNamed(s.Name); !ok {
			return o, fmt.Errorf("-mix: %q is not save, get or handoff", s.Name)
		}
	}
	if o.scale, err = parseScale(*scale, o.journeys); err != nil {
		return o, err
	}
	switch {
	case o.duration <= 0 || o.warmup < 0:
		return o, errors.New("-duration must be positive and -warmup not negative")
	case o.journeys <= 0 || o.callers <= 0 || o.rate <= 0 || o.maxInFlight <= 0 || o.conns <= 0 || o.hotWriters <= 0 || o.rounds <= 0 || o.agents <= 0 || o.ring <= 0:
		return o, errors.New("-journeys, -callers, -rate, -max-in-flight, -conns, -hot-writers, -rounds, -agents and -ring must be positive")
	case floorBlock(o.journeys) < max(o.callers, o.maxInFlight):
		return o, fmt.Errorf("-journeys %d is too few: the save-script floor sets aside a quarter of them (at most 4,096), one or more per caller (-callers, -max-in-flight)", o.journeys)
	case o.soakOnly && o.soak <= 0:
		return o, errors.New("-soak-only needs a -soak duration")
	case o.soak > 0 && o.soak < 4*o.soakEvery:
		return o, fmt.Errorf("-soak %s is too short to tell a trend with a sample every %s (-soak-every)", o.soak, o.soakEvery)
	}
	return o, nil
}

// parseScale reads the scale list and adds the preload count, sorted.
func parseScale(s string, journeys int) ([]int, error) {
	out := []int{journeys}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-scale: %q is not a positive count", part)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// driver holds the processes and clients of one run.
type driver struct {
	opts options
	dir  string
	log  io.Writer // progress, on stderr

	redis *redisServer
	hd    *handoffd
	hdB   *handoffd // with -versus-flag or -versus-handoffd
	empty *emptyServer
	sink  *emptyServer // the webhook receiver, with -webhook-sink

	rc         *goredis.Client   // INFO, MEMORY USAGE, FLUSHALL
	st         *redisstore.Store // preload, the save-script floor, key names (handoffd's default prefix)
	hdConns    []*grpc.ClientConn
	hdBConns   []*grpc.ClientConn
	emptyConns []*grpc.ClientConn
	grpc       *grpcAPI
	grpcB      *grpcAPI // handoffd B
	emptyAPI   *grpcAPI // the floor's empty server, called as handoffd is
	rest       *restAPI

	salt uint64 // advanced per phase, so phases pick different journeys
}

func (d *driver) phaseSalt() uint64 {
	d.salt += 0x1000193
	return d.salt
}

// run starts Redis, handoffd and the floor server, runs every phase, and
// prints the report (and writes it to opts.out).
func run(ctx context.Context, opts options, stdout, progress io.Writer) (_ *report, err error) {
	dir, err := os.MkdirTemp("", "handoff-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := useQuote(opts.typedJourneys); err != nil {
		return nil, err
	}
	defer func() { quote = nil }()
	d := &driver{opts: opts, dir: dir, log: progress}
	defer func() { err = errors.Join(err, d.close()) }()
	if err := d.start(ctx); err != nil {
		return nil, err
	}
	rep, err := d.measureAll(ctx)
	if err != nil {
		return nil, err
	}
	sections := rep.sections()
	for _, s := range sections {
		fmt.Fprintf(stdout, "## %s\n\n%s\n", sectionTitles[s.name], s.body)
	}
	if opts.out != "" {
		if err := writeReport(opts.out, sections); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "wrote %s\n", opts.out)
	}
	return rep, nil
}

func (d *driver) start(ctx context.Context) error {
	var err error
	fmt.Fprintln(d.log, "starting redis-server, handoffd and the floor's gRPC server")
	if d.redis, err = startRedis(ctx, d.opts.redisServer, d.dir, d.opts.listpackValue); err != nil {
		return err
	}
	tokens := filepath.Join(d.dir, "tokens.yaml")
	if err := os.WriteFile(tokens, []byte(tokensYAML(d.opts.agents, quote != nil)), 0o600); err != nil {
		return err
	}
	bin := d.opts.handoffdBin
	if bin == "" {
		if bin, err = buildHandoffd(ctx, d.dir); err != nil {
			return err
		}
	}
	args := handoffdArgs(d.redis.url(), tokens, d.opts.cpuprofile != "")
	var stOpts []redisstore.Option
	if quote != nil {
		types, err := quote.typesDir(d.dir)
		if err != nil {
			return err
		}
		args = append(args, "--journey-types-dir", types)
		// The preload writes each journey's furthest step, as handoffd's
		// create does for a journey of a declared type.
		stOpts = append(stOpts, redisstore.WithWrites(store.WriteOptions{Steps: quote.steps}))
	}
	if d.opts.webhookSink {
		if d.sink, err = startWebhookSink(ctx, d.dir); err != nil {
			return err
		}
		file, err := writeWebhooksFile(d.dir, d.sink.addr)
		if err != nil {
			return err
		}
		args = append(args, "--webhooks-file", file)
	}
	if d.hd, err = startHandoffd(ctx, d.dir, "handoffd", exec.Command(bin, append(slices.Clone(args), d.opts.handoffdFlags...)...)); err != nil {
		return err
	}
	if d.opts.versus() {
		if err := d.startVersus(ctx, bin, args); err != nil {
			return err
		}
	}
	if d.empty, err = startEmptyServer(ctx, d.dir, relayEnv(d.redis.url(), d.opts)); err != nil {
		return err
	}
	d.rc = goredis.NewClient(&goredis.Options{Addr: d.redis.addr})
	if d.st, err = redisstore.Open(d.redis.url(), stOpts...); err != nil {
		return err
	}
	if d.hdConns, err = dial(d.hd.grpcAddr, d.opts.conns); err != nil {
		return err
	}
	if d.emptyConns, err = dial(d.empty.addr, d.opts.conns); err != nil {
		return err
	}
	d.grpc = newGRPCAPI(d.hdConns, d.opts.agents)
	d.emptyAPI = newGRPCAPI(d.emptyConns, d.opts.agents)
	d.rest = newRESTAPI(d.hd.httpAddr, max(d.opts.callers, d.opts.maxInFlight)+8, d.opts.agents)
	return nil
}

// startVersus starts handoffd B (-versus-flag, -versus-handoffd) with
// the driver's own flags, args, and B's.
func (d *driver) startVersus(ctx context.Context, bin string, args []string) error {
	if d.opts.versusBin != "" {
		bin = d.opts.versusBin
	}
	var err error
	if d.hdB, err = startHandoffd(ctx, d.dir, "handoffd-b", exec.Command(bin, append(slices.Clone(args), d.opts.versusFlags...)...)); err != nil {
		return err
	}
	if d.hdBConns, err = dial(d.hdB.grpcAddr, d.opts.conns); err != nil {
		return err
	}
	d.grpcB = newGRPCAPI(d.hdBConns, d.opts.agents)
	return nil
}

// close stops everything start started, in reverse.
func (d *driver) close() error {
	var errs []error
	if d.rest != nil {
		d.rest.close()
	}
	closeAll(d.hdConns)
	closeAll(d.hdBConns)
	closeAll(d.emptyConns)
	if d.st != nil {
		errs = append(errs, d.st.Close())
	}
	if d.rc != nil {
		errs = append(errs, d.rc.Close())
	}
	if d.empty != nil {
		errs = append(errs, d.empty.stop(stopTimeout))
	}
	if d.hd != nil {
		errs = append(errs, d.hd.stop(stopTimeout))
	}
	if d.hdB != nil {
		errs = append(errs, d.hdB.stop(stopTimeout))
	}
	if d.sink != nil {
		if n, err := d.sink.deliveries(); err == nil {
			fmt.Fprintf(d.log, "the webhook receiver accepted %d deliveries\n", n)
		}
		errs = append(errs, d.sink.stop(stopTimeout))
	}
	if d.redis != nil {
		errs = append(errs, d.redis.stop(stopTimeout))
	}
	return errors.Join(errs...)
}
