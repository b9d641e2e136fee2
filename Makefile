GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/netdevd/netdevd/internal/version.Version=$(VERSION)

.PHONY: all build run test test-unit test-e2e bench lint deps clean package

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/netdevd ./cmd/netdevd
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/cloudsim ./cmd/cloudsim

# Debian packages netdevd and netdevd-cloudsim for amd64 and arm64 in dist/
# (static, stripped binaries; version from git, see docs/operations.md).
package:
	$(GO) run ./cmd/netdevd-package -out dist

# The device with an embedded controller on loopback; prints how to SSH in.
run: build
	$(BIN)/netdevd demo

deps:
	./scripts/install-test-deps.sh

# Every test: unit tests under the race detector, then the end-to-end tests
# that start the real binaries (they need root for network namespaces).
test: deps build
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v -e /tests -e /cmd/netdevd-bench -e /cmd/netdevd-package)
	# the package test builds every package and installs, upgrades, removes
	# and purges netdevd with dpkg on this machine: alone, and without the
	# race detector (it mostly waits for dpkg, go build and lintian)
	$(GO) test -count=1 -timeout 20m ./cmd/netdevd-package/
	# the bench's tests build and start whole fleets and controllers: alone,
	# so that their load does not starve the other packages' tests
	$(GO) test -race -count=1 -timeout 10m ./cmd/netdevd-bench/
	# readline races inside its own resize handling, so the tests that run
	# the real readline skip under -race; they run here without it.
	$(GO) test -count=1 -timeout 10m ./cli/shell/ ./sshd/ -run 'Interactive|RealReadline|Monitor'
	$(GO) build -race -o $(BIN)/netdevd-race ./cmd/netdevd
	NETDEVD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 30m ./tests/...

bench: build
	$(GO) run ./cmd/netdevd-bench

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

clean:
	rm -rf $(BIN) dist
