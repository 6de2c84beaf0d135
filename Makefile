# dqm: `make run` starts the demo gateway; `make test` runs every test.
GO        ?= go
TOOLS     := $(CURDIR)/.tools
STATICCHECK := $(TOOLS)/staticcheck
PKGS      := ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test test-short lint fmt vet staticcheck fuzz bench compose-up compose-check clean

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

$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.7.0

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

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

compose-up:
	docker compose -f compose.yaml up -d

compose-check:
	docker compose -f compose.yaml config -q

clean:
	rm -rf bin data
