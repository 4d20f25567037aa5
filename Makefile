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

# Each round is two runs, one without insight and one with, alternating
# which goes first (off on, on off, ...). Every run also starts a second
# handoffd, B, always without insight, whose saves and gets are measured
# right after the first's in each of the run's rounds: the run with insight
# gives insight's cost under the same neighbours, the one without how far
# two handoffds differ anyway (A ÷ B with nothing between them), which the
# same-run ratio is divided by.
.PHONY: bench-insight
bench-insight: ## what insight costs saves: handoff-load on journeys of a declared type, runs with --insight=false and with insight in turn, INSIGHT_BENCH_ROUNDS (2) times each, each beside a handoffd without insight (about 11 min); output and CPU profiles in test-output/bench-insight/
	@mkdir -p test-output/bench-insight
	go build -o test-output/bench-insight/handoffd ./cmd/handoffd
	go build -o test-output/bench-insight/handoff-load ./cmd/handoff-load
	@cd test-output/bench-insight && \
	figures() { awk -F'|' 'function num(s) { gsub(/[^0-9.]/, "", s); return s + 0 } \
	  $$4 ~ / 64 callers/ && $$6 ~ /µs/ && $$3 ~ / save / { if ($$2 ~ /gRPC B/) { bs = num($$5); bc = num($$8) } else if ($$2 ~ /gRPC/) { as = num($$5); ac = num($$8) } } \
	  $$4 ~ / 64 callers/ && $$6 ~ /µs/ && $$3 ~ / get / { if ($$2 ~ /gRPC B/) bg = num($$5); else if ($$2 ~ /gRPC/) ag = num($$5) } \
	  END { print as, ac, bs, bc, ag, bg }' $$1; }; \
	for round in $$(seq $(INSIGHT_BENCH_ROUNDS)); do \
	  order="off on"; if [ $$((round % 2)) = 0 ]; then order="on off"; fi; \
	  for name in $$order; do \
	    flags=; if [ $$name = off ]; then flags=-handoffd-flag=--insight=false; fi; \
	    ./handoff-load $(INSIGHT_BENCH_FLAGS) -typed-journeys -handoffd ./handoffd $$flags -versus-flag=--insight=false -cpuprofile $$name-$$round.cpu.pprof > $$name-$$round.md 2> $$name-$$round.log || { tail -20 $$name-$$round.log; exit 1; }; \
	    grep -hE -e '^\| gRPC( B)? \| save \| 64 callers' -e 'CPU per gRPC save, handoffd' -e '^insight counted' $$name-$$round.md $$name-$$round.log | sed "s/^/$$name $$round: /"; \
	    case $$name:$$(awk '/^insight counted:/ { print $$3 }' $$name-$$round.log) in \
	      on:0|on:|off:[1-9]*) echo "insight $$name, yet the run counted otherwise: see $$name-$$round.log"; exit 1;; \
	    esac; \
	  done; \
	  echo $$round $$(figures off-$$round.md) $$(figures on-$$round.md) | tee -a figures.txt | awk '{ \
	    printf "round %s, runs apart: with insight %d saves/s against %d without (%.3f); CPU per save, handoffd + redis-server, %d µs against %d µs (%+.1f%%)\n", $$1, $$8, $$2, $$8 / $$2, $$9, $$3, 100 * ($$9 / $$3 - 1); \
	    printf "round %s, same run: saves/s with insight ÷ B %.3f, both without (A ÷ B) %.3f, so insight %.3f; CPU per save %+.1f%%, %+.1f%%, so insight %+.1f%%; gets (insight not involved) A ÷ B %.3f and %.3f\n", \
	      $$1, $$8 / $$10, $$2 / $$4, ($$8 / $$10) / ($$2 / $$4), 100 * ($$9 / $$11 - 1), 100 * ($$3 / $$5 - 1), 100 * (($$9 / $$11) / ($$3 / $$5) - 1), $$12 / $$13, $$6 / $$7 }'; \
	done; \
	tail -n $(INSIGHT_BENCH_ROUNDS) figures.txt | awk '{ apart += $$8 / $$2; cpu += $$9 / $$3; same += ($$8 / $$10) / ($$2 / $$4); samecpu += ($$9 / $$11) / ($$3 / $$5); n++ } END { \
	  printf "mean of %d rounds: saves/s with insight ÷ without %.3f runs apart, %.3f in the same run (the budget: at least 0.900); CPU per save %+.1f%% and %+.1f%%\n", n, apart / n, same / n, 100 * (cpu / n - 1), 100 * (samecpu / n - 1) }'; \
	for round in $$(seq $(INSIGHT_BENCH_ROUNDS)); do f=on-$$round.cpu.pprof; \
	  echo "$$f, internal/insight and AddInsight: $$(go tool pprof -top -nodefraction=0 -focus 'internal/insight\.|AddInsight' $$f 2>/dev/null | grep '^Showing nodes accounting')"; \
	done

INSIGHT_BENCH_FLAGS ?= $(EVENTS_BENCH_FLAGS)
INSIGHT_BENCH_ROUNDS ?= 2

.PHONY: bench-cluster
bench-cluster: ## save, get and mix through handoffd on one Redis and on a 3-primary Redis Cluster, same run (about 3 min); output in test-output/bench-cluster.txt
	@mkdir -p test-output
	set -o pipefail; go test ./internal/app -run '^$$' -bench ClusterAgainstOneRedis -benchtime 5s -count 3 | tee test-output/bench-cluster.txt

.PHONY: insight-check
insight-check: ## replay 100,000 generated journeys through the API on memory and on Redis and check the journey map against what they imply (about 8 min on 2 cores, longer on a busy machine); writes docs/insight-check.md
	@mkdir -p test-output
	set -o pipefail; HANDOFF_INSIGHT_JOURNEYS=100000 HANDOFF_INSIGHT_REPORT=$(CURDIR)/docs/insight-check.md \
		go test ./internal/app -run '^TestInsight_theMapMatchesWhatTheGeneratorReplayed$$' -count=1 -timeout 90m -v | tee test-output/insight-check.log | grep -E '^(---|    ---|ok|FAIL)|out of tolerance|replayed and read'
