# handoff: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash

BUF_VERSION := v1.75.0
STATICCHECK_VERSION := v0.8.2
BIN := $(CURDIR)/.bin
BUF := $(BIN)/buf

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## run handoffd on the embedded memory store (DEV MODE tokens) with the example journey types
	go run ./cmd/handoffd --journey-types-dir examples/journey-types --identity-keys-file examples/identity-keys.dev.txt

.PHONY: test
test: deps lint generate-check ## everything CI checks: installs redis-server and chromium if missing, vet, staticcheck, buf lint, drift, tests with -race (browser tests included)
	go test -race -count=1 ./...

.PHONY: deps
deps: ## install redis-server, chromium, curl, jq, npm when missing (apt-get, as root)
	@.ci/install-deps

.PHONY: lint
lint: $(BUF) third_party ## gofmt, go vet, staticcheck, buf lint
	@test -z "$$(gofmt -l cmd internal gen web)" || { echo "gofmt needed:"; gofmt -l cmd internal gen web; exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(BUF) lint

.PHONY: generate
generate: $(BUF) third_party ## regenerate gen/ from api/
	$(BUF) generate

.PHONY: generate-check
generate-check: generate ## fail when gen/ differs from what api/ generates
	@git diff --exit-code -- gen/ && test -z "$$(git status --porcelain -- gen/)" || \
		{ echo "gen/ is out of date: run make generate and commit the result"; exit 1; }

.PHONY: third_party
third_party:
	@.ci/fetch-protos

# buf comes prebuilt from npm (seconds) rather than compiled with go install
# (about 5 minutes on two cores); the npm package runs the platform's binary.
$(BUF):
	npm install --prefix $(BIN)/npm --no-save --no-audit --no-fund --loglevel=error @bufbuild/buf@$(BUF_VERSION:v%=%)
	ln -sf npm/node_modules/.bin/buf $(BUF)

.PHONY: bench
bench: ## measure handoffd against its floor (about 10 min) and rewrite the figures in docs/benchmarks.md; BENCH_FLAGS= passes more flags to cmd/handoff-load
	@mkdir -p test-output
	go run ./cmd/handoff-load -out docs/benchmarks.md -cpuprofile test-output/handoffd-save.cpu.pprof $(BENCH_FLAGS)

.PHONY: bench-events
bench-events: ## what events and a webhook cost: handoff-load without events, with --events, and with --events and a webhook receiver, twice each in turn (about 13 min); output in test-output/bench-events/
	@mkdir -p test-output/bench-events
	go build -o test-output/bench-events/handoffd ./cmd/handoffd
	go build -o test-output/bench-events/handoff-load ./cmd/handoff-load
	@cd test-output/bench-events && for round in 1 2; do \
	  for run in off:: events:-handoffd-flag=--events: webhook:-handoffd-flag=--events:-webhook-sink; do \
	    name=$${run%%:*}; flags=$$(echo $${run#*:} | tr ':' ' '); \
	    ./handoff-load $(EVENTS_BENCH_FLAGS) -handoffd ./handoffd $$flags > $$name-$$round.md 2> $$name-$$round.log || exit 1; \
	    grep -h -e '^| gRPC | save | 64 callers' -e 'CPU per gRPC save, handoffd' -e 'webhook receiver accepted' $$name-$$round.md $$name-$$round.log | sed "s/^/$$name $$round: /"; \
	  done; \
	done

EVENTS_BENCH_FLAGS ?= -journeys 20000 -scale '' -duration 4s -rounds 2 -warmup 500ms

# Each round runs both, alternating which goes first (off on, on off, ...),
# so a machine getting busier or quieter weighs on both alike.
.PHONY: bench-insight
bench-insight: ## what insight costs saves: handoff-load on journeys of a declared type with --insight=false and with insight, in turn, INSIGHT_BENCH_ROUNDS (2) times each (about 10 min); output and CPU profiles in test-output/bench-insight/
	@mkdir -p test-output/bench-insight
	go build -o test-output/bench-insight/handoffd ./cmd/handoffd
	go build -o test-output/bench-insight/handoff-load ./cmd/handoff-load
	@cd test-output/bench-insight && \
	figures() { awk -F'|' '/CPU per gRPC save, handoffd \+ redis-server/ { s = $$3; gsub(/,/, "", s); split(s, n, /[^0-9.]+/); rate = n[7]; cpu = n[2] " " n[3] " " n[4] } \
	  $$2 ~ /floor/ && $$3 ~ /empty unary call/ && $$4 ~ / 64 callers/ && empty == "" { empty = $$5; gsub(/[^0-9.]/, "", empty) } END { print rate, cpu, empty }' $$1; }; \
	for round in $$(seq $(INSIGHT_BENCH_ROUNDS)); do \
	  order="off on"; if [ $$((round % 2)) = 0 ]; then order="on off"; fi; \
	  for name in $$order; do \
	    flags=; if [ $$name = off ]; then flags=-handoffd-flag=--insight=false; fi; \
	    ./handoff-load $(INSIGHT_BENCH_FLAGS) -typed-journeys -handoffd ./handoffd $$flags -cpuprofile $$name-$$round.cpu.pprof > $$name-$$round.md 2> $$name-$$round.log || { tail -20 $$name-$$round.log; exit 1; }; \
	    grep -h -e '^| gRPC | save | 64 callers' -e 'CPU per gRPC save, handoffd' -e '^insight counted' $$name-$$round.md $$name-$$round.log | sed "s/^/$$name $$round: /"; \
	    case $$name:$$(awk '/^insight counted:/ { print $$3 }' $$name-$$round.log) in \
	      on:0|on:|off:[1-9]*) echo "insight $$name, yet the run counted otherwise: see $$name-$$round.log"; exit 1;; \
	    esac; \
	  done; \
	  echo $$round $$(figures off-$$round.md) $$(figures on-$$round.md) | awk '{ tn = $$7 / $$11; to = $$2 / $$6; \
	    printf "round %s: with insight %d saves/s against %d without (%.3f); ÷ the same run'"'"'s empty call %.4f against %.4f (%.3f, %+.1f%%); CPU per save, handoffd + redis-server, %d µs against %d µs (%+.1f%%)\n", \
	      $$1, $$7, $$2, $$7 / $$2, tn, to, tn / to, 100 * (tn / to - 1), $$8, $$3, 100 * ($$8 / $$3 - 1) }'; \
	done; \
	for round in $$(seq $(INSIGHT_BENCH_ROUNDS)); do echo $$(figures off-$$round.md) $$(figures on-$$round.md); done | \
	  awk '{ to += $$1; co += $$2; no += $$1 / $$5; tn += $$6; cn += $$7; nn += $$6 / $$10; n++ } END { \
	    printf "mean of %d rounds: with insight %d saves/s against %d without (%.3f); ÷ the same run'"'"'s empty call %.4f against %.4f (%.3f, %+.1f%%; the budget is -10%%); CPU per save %d µs against %d µs (%+.1f%%)\n", \
	      n, tn / n, to / n, tn / to, nn / n, no / n, nn / no, 100 * (nn / no - 1), cn / n, co / n, 100 * (cn / co - 1) }'; \
	for round in $$(seq $(INSIGHT_BENCH_ROUNDS)); do f=on-$$round.cpu.pprof; \
	  echo "$$f, internal/insight and AddInsight: $$(go tool pprof -top -nodefraction=0 -focus 'internal/insight\.|AddInsight' $$f 2>/dev/null | grep '^Showing nodes accounting')"; \
	done

INSIGHT_BENCH_FLAGS ?= $(EVENTS_BENCH_FLAGS)
INSIGHT_BENCH_ROUNDS ?= 2

.PHONY: bench-cluster
bench-cluster: ## save, get and mix through handoffd on one Redis and on a 3-primary Redis Cluster, same run (about 3 min); output in test-output/bench-cluster.txt
	@mkdir -p test-output
	set -o pipefail; go test ./internal/app -run '^$$' -bench ClusterAgainstOneRedis -benchtime 5s -count 3 | tee test-output/bench-cluster.txt
