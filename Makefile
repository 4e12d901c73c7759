# edged — build, run and test. `make run` starts edged; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
CLIENT_VERSION := 4.8.1
STATICCHECK_VERSION := v0.8.2
CLIENT_DIST := host/clientdist/dist

.PHONY: all build run test unit interop browser lint client-dist test-deps toolchains plugins clean bench bench-deps

all: build

# The official browser bundles, fetched from npm at a pinned version and embedded.
client-dist: $(CLIENT_DIST)/socket.io.js
$(CLIENT_DIST)/socket.io.js:
	@mkdir -p $(CLIENT_DIST)
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent socket.io-client@$(CLIENT_VERSION) >/dev/null && \
	  tar -xzf socket.io-client-$(CLIENT_VERSION).tgz && \
	  cp package/dist/socket.io.js package/dist/socket.io.js.map \
	     package/dist/socket.io.min.js package/dist/socket.io.min.js.map \
	     package/dist/socket.io.msgpack.min.js package/dist/socket.io.msgpack.min.js.map \
	     $(CURDIR)/$(CLIENT_DIST)/ && rm -rf $$tmp
	@echo "fetched socket.io-client@$(CLIENT_VERSION) bundles into $(CLIENT_DIST)"

build: client-dist
	@mkdir -p bin
	$(GO) build -o bin/edged ./cmd/edged

# The Debian toolchains for the C plugin and the WAT fixtures (installed when missing).
toolchains:
	@bash scripts/install-toolchains.sh

# Every example plugin into build/plugins, every test fixture into build/fixtures.
plugins: toolchains
	@bash scripts/build-plugins.sh

run: build plugins
	./bin/edged --listen 127.0.0.1:3000 --plugins build/plugins --static web/chat

# npm packages the interop suites need (pinned by test/package-lock.json).
test-deps:
	@cd test && npm ci --no-audit --no-fund --loglevel=error

lint: client-dist
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

unit: client-dist plugins
	$(GO) test -race -count=1 ./...

interop: client-dist test-deps plugins build
	cd test && node --test --test-concurrency=1 --test-reporter=spec interop/*.test.mjs

# The chat page (web/chat) end to end in Debian's chromium (setup.sh installs it and playwright-core when missing).
browser: build plugins client-dist test-deps
	bash test/browser/setup.sh && cd test/browser && EDGED_BIN=$(CURDIR)/bin/edged node --test --test-concurrency=1 --test-reporter=spec chat.test.mjs

test: lint unit interop browser

# The benchmark (issue 6): edged (echo plugin and native Go handlers) against
# the Node.js socket.io server, server on CPU 0, load on CPU 1; see bench/README.md.
# Not part of `test`. Tune with REPS, IDLE_N, RECEIVERS, BCAST_WINDOW, BCAST_RATE,
# ECHO_C, ECHO_RATE, CHURN_C, DURATION, SERVERS, SCENARIOS (bench/run.sh).
bench-deps:
	@cd bench/node && npm ci --no-audit --no-fund --loglevel=error

bench: build plugins bench-deps
	bash bench/run.sh

clean:
	rm -rf bin build $(CLIENT_DIST)/*.js $(CLIENT_DIST)/*.map bench/node/node_modules test/node_modules test/browser/node_modules test/browser/artifacts
