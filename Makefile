# Strata — build, run and test targets. CI (.ci/run) calls `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin
DATA ?= ./data
# Race detector on for every test run (the brief asks for it in CI).
RACE ?= -race
FUZZTIME ?= 3000x

.PHONY: help build run test deps check lint fmt unit e2e fuzz-smoke bench bench-go clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build stratad and strata into ./bin
	$(GO) build -o $(BIN)/stratad ./cmd/stratad
	$(GO) build -o $(BIN)/strata ./cmd/strata

run: build ## build and start stratad on :8086 with its data under ./data
	$(BIN)/stratad run -data-root $(DATA)

deps: ## install what the tests need: Debian packages and Go modules
	.ci/deps

test: deps check unit fuzz-smoke e2e ## everything: deps, format/vet/staticcheck, unit tests, fuzz smoke, end-to-end

check: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

unit: ## unit tests with the race detector (end-to-end excluded)
	$(GO) test $(RACE) -timeout 20m $$($(GO) list ./... | grep -v /e2e)

e2e: ## end-to-end tests against the real stratad binary and real clients
	$(GO) test $(RACE) -timeout 20m -count=1 ./e2e/...

fuzz-smoke: ## a short run of every fuzz target
	scripts/fuzz-smoke $(FUZZTIME)

bench-go: ## Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v /e2e)

bench: build ## side-by-side benchmark against InfluxDB 1.x (writes docs/benchmarks.md)
	scripts/bench

clean:
	rm -rf $(BIN)
