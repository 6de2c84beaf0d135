# dqm: `make run` starts the demo gateway; `make test` runs every test.
GO        ?= go
TOOLS     := $(CURDIR)/.tools
STATICCHECK := $(TOOLS)/staticcheck
PKGS      := ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test test-short lint fmt vet staticcheck fuzz bench chaos chaos-short compose-up compose-check clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/dqm ./cmd/dqm

## run: the demo gateway (embedded NATS, SQLite demo database, REST on 127.0.0.1:8080)
run: build
	./bin/dqm serve -config deploy/dqm.demo.json

## test: formatting, vet, staticcheck, then every test with the race detector,
## and the DB2 path against a fake go_ibm_db (-tags db2)
test: lint
	$(GO) test -race -count=1 -timeout 10m $(PKGS)
	@echo "doc examples: make docs-examples (test/docs, build tag docexamples; not in CI yet, see the issue note)"
	$(GO) test -race -count=1 -tags db2 ./engines/db2/ ./test/ -run 'DB2'
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/params/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime 20s ./internal/wire/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/config/
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyToken$$' -fuzztime 20s ./ingress/

test-short:
	$(GO) test -count=1 $(PKGS)

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags db2 $(PKGS)
	$(GO) vet -tags chaos ./test/chaos/

$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.7.0

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)
	$(STATICCHECK) -tags chaos ./test/chaos/

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./internal/params/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime 60s ./internal/wire/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./internal/config/
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyToken$$' -fuzztime 60s ./ingress/

## bench: dqm vs the direct driver, same run; writes bench/results.json and
## bench/REPORT.md. Flags pass through: make bench BENCH_ARGS='-duration 3s
## -engines postgres'; PROFILE=1 writes CPU and allocation profiles of each
## dqm row into bench/profiles/.
BENCH_ARGS ?=
PROFILE    ?=
bench:
	$(GO) run ./bench -out bench/REPORT.md -json bench/results.json $(if $(PROFILE),-profile-dir bench/profiles) $(BENCH_ARGS)

## chaos: the high-availability suite (test/chaos): three nats-server
## processes in network namespaces (root; partitions skip without them,
## and fail under CI), two dqm instances, PostgreSQL; CHAOS_RUNS runs of
## each fault. Writes test/chaos/results.json and the table in docs/ha.md.
## chaos-short is its CI form: one run of each fault, nothing written.
NATS_SERVER_VERSION := v2.15.3
NATS_SERVER := $(TOOLS)/nats-server
CHAOS_RUNS  ?= 20
CHAOS_ARGS  ?=
$(NATS_SERVER):
	GOBIN=$(TOOLS) $(GO) install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)

chaos: $(NATS_SERVER)
	DQM_NATS_SERVER=$(NATS_SERVER) $(GO) test -tags chaos -count=1 -timeout 4h -v -run '^TestChaos$$' ./test/chaos/ \
		-args -chaos.runs $(CHAOS_RUNS) -chaos.results results.json -chaos.doc ../../docs/ha.md $(CHAOS_ARGS)

chaos-short: $(NATS_SERVER)
	DQM_NATS_SERVER=$(NATS_SERVER) $(GO) test -tags chaos -count=1 -timeout 10m -v -run '^TestChaos$$' ./test/chaos/ \
		-args -chaos.runs 1 $(CHAOS_ARGS)

compose-up:
	docker compose -f compose.yaml up -d

compose-check:
	docker compose -f compose.yaml config -q
	docker compose -f deploy/compose.ha.yaml config -q

clean:
	rm -rf bin data

## docs-examples: every shell block of README.md and docs/ against a live demo gateway
docs-examples:
	CI=$(CI) $(GO) test -count=1 -tags docexamples ./test/docs/
