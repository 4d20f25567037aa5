// Command handoff-load measures handoffd beside the floor the machine
// allows, in one run, and writes the report docs/benchmarks.md holds.
//
// It starts its own redis-server (no persistence) on a free loopback port,
// builds and starts handoffd against it, and re-executes itself as a bare
// grpc-go server. Then, for each journey count of -scale, it empties Redis,
// preloads that many journeys (20 answers, about 1 KiB of JSON each),
// measures Redis's memory per journey right after the preload and right
// after one save each, and runs the gRPC mix. At -journeys it runs the
// full suite:
//
//   - the floor: an empty unary gRPC call to the bare server, the Redis
//     work of one save (the store's save script, called directly), and the
//     bare server running that save per call and nothing else (the relay);
//   - save, get, handoff + redeem, and the 70/20/10 mix, over gRPC and over
//     REST through the gateway;
//   - each as a closed loop (a fixed number of callers back to back) and,
//     for saves and the mix, as an open loop at a fixed rate, whose
//     latencies run from each request's intended start so a stall shows in
//     the tail (no coordinated omission); the phases of one load run in
//     interleaved rounds, so noise falls on floor and service alike;
//   - many writers saving into one journey, checked for lost updates;
//   - with -soak, a steady run sampling handoffd's heap and goroutines;
//   - with -cpuprofile, a CPU profile of handoffd under the saves, taken
//     from its --debug-addr.
//
// Its journeys are of no declared journey type, which insight does not
// count. With -typed-journeys they are of bench-quote.yaml (built in),
// which handoffd loads, their answers grouped under its steps, and the run
// ends by reading what insight counted (make bench-insight).
//
// Every figure is printed beside the floor measured in the same run, as a
// ratio, since small shared machines are noisy. Latencies are HDR
// histograms; CPU and memory of each process come from /proc, and CPU is
// also given per request (handoffd + Redis per save being the headline).
//
// Every request is encoded before its phase, in a ring the phase's callers
// take from in turn, and replies are read but not decoded (but for the
// handoff's code, which the redeem needs), so that a call costs the driver
// about the same whatever the method, the floor's empty call included.
//
// Usage:
//
//	go run ./cmd/handoff-load [flags]
//	make bench    # the defaults docs/benchmarks.md was made with
//	make bench-insight   # journeys of a declared type, insight off and on in turn
//	go run ./cmd/handoff-load -soak 10m -soak-only -out docs/benchmarks.md
//
// With -out, the report goes into a Markdown file between
// <!-- handoff-load:NAME --> markers, keeping the rest of the file.
package main
