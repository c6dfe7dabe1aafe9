# Tolk — `make start` installs what is missing, builds and starts the server; `make test` runs every check.
SHELL := /bin/bash
APT_PACKAGES := espeak-ng pocketsphinx pocketsphinx-en-us libpocketsphinx3 pocketsphinx-testdata \
	apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en sox
# Debian's Chromium for the browser tests and nginx for the TLS proxy test (make test only).
TEST_APT_PACKAGES := chromium nginx-light
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8080
HOST ?= 0.0.0.0

.PHONY: start test test-services services livekit stripe-mock deps test-deps apt-install build web-build lint typecheck bench bench-rooms bench-vad bench-stt clean
# The service-backed run: the platform tests again on a real Postgres and Redis (`make services`
# starts both on loopback when they do not answer; role and password `tolk`).
TEST_POSTGRES_URL ?= postgres://tolk:tolk@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379
# The real LiveKit SFU of the rooms tests: built once per machine with the Go toolchain into .tools/,
# or any livekit-server binary given as LIVEKIT_SERVER_BIN.
LIVEKIT_VERSION := v1.13.5
LIVEKIT_SERVER_BIN ?= $(CURDIR)/.tools/livekit-$(LIVEKIT_VERSION)/livekit-server
export LIVEKIT_SERVER_BIN
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
# stripe-mock (Stripe's own API stand-in, validating requests against Stripe's OpenAPI spec) for the
# billing tests: built once per machine into .tools/, or any binary given as STRIPE_MOCK_BIN.
STRIPE_MOCK_VERSION := v0.203.0
STRIPE_MOCK_BIN ?= $(CURDIR)/.tools/stripe-mock-$(STRIPE_MOCK_VERSION)/stripe-mock
export STRIPE_MOCK_BIN

start: deps node_modules/.installed build web-build
	@npm link --no-audit --no-fund >/dev/null 2>&1 || echo "note: 'npm link' failed; run the CLI as 'npx tolk'"
	node bin/tolk.js serve --port $(PORT) --host $(HOST)

test: deps test-deps node_modules/.installed build web-build lint typecheck services livekit stripe-mock
	cd web && npm test
	npm test
	@$(MAKE) --no-print-directory test-services

# Postgres and Redis when they answer (required under CI=true); reported as skipped otherwise.
test-services: node_modules/.installed
	@pg=$$(node -e "require('net').connect(5432,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" && echo up); \
	redis=$$(node -e "require('net').connect(6379,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" && echo up); \
	if [ "$$pg" = up ] && [ "$$redis" = up ]; then \
		echo "Postgres and Redis answer: the platform tests again on them"; \
		TOLK_TEST_DATABASE_URL=$(TEST_POSTGRES_URL) TOLK_TEST_REDIS_URL=$(TEST_REDIS_URL) npm run test:services; \
	elif [ "$$CI" = true ]; then \
		echo "CI=true but Postgres (127.0.0.1:5432) or Redis (127.0.0.1:6379) does not answer"; exit 1; \
	else \
		echo "SKIPPED: the Postgres/Redis run (neither TEST_POSTGRES_URL nor TEST_REDIS_URL answers)"; \
	fi

# Postgres and Redis on 127.0.0.1 for the service-backed tests: installed from Debian packages and
# started when they do not answer, left as they are when they do (scripts/services.sh).
services:
	@bash scripts/services.sh

# livekit-server for the rooms tests, from the Go module proxy; skipped when the binary is there.
# A failed build fails under CI=true; elsewhere the LiveKit tests then report themselves skipped.
livekit:
	@if [ ! -x "$(LIVEKIT_SERVER_BIN)" ]; then \
		echo "building livekit-server $(LIVEKIT_VERSION) with go install (first run only: about 3 minutes)"; \
		tmp=$$(mktemp -d) && GOBIN=$$tmp "$(GO)" install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_VERSION) \
			&& mkdir -p "$(dir $(LIVEKIT_SERVER_BIN))" && mv "$$tmp/server" "$(LIVEKIT_SERVER_BIN)" && rm -rf "$$tmp" \
			|| { echo "livekit-server $(LIVEKIT_VERSION) did not build"; [ "$$CI" != true ] || exit 1; }; \
	fi

# stripe-mock for the billing tests, from the Go module proxy; skipped when the binary is there.
# A failed build fails under CI=true; elsewhere the billing tests then report themselves skipped.
stripe-mock:
	@if [ ! -x "$(STRIPE_MOCK_BIN)" ]; then \
		echo "building stripe-mock $(STRIPE_MOCK_VERSION) with go install (first run only: under a minute)"; \
		tmp=$$(mktemp -d) && GOBIN=$$tmp "$(GO)" install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION) \
			&& mkdir -p "$(dir $(STRIPE_MOCK_BIN))" && mv "$$tmp/stripe-mock" "$(STRIPE_MOCK_BIN)" && rm -rf "$$tmp" \
			|| { echo "stripe-mock $(STRIPE_MOCK_VERSION) did not build"; [ "$$CI" != true ] || exit 1; }; \
	fi

# Debian packages: the offline engines (pocketsphinx, Apertium, espeak-ng) and the LibriVox test recordings.
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"

apt-install:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# onnxruntime-node (Silero VAD) runs on the CPU binaries inside its npm package; .npmrc skips its optional GPU download.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# dist/ is rebuilt only when a source file, the build settings or the installed modules changed.
TS_SOURCES := $(shell find src -name '*.ts' -not -name '*.test.ts') tsconfig.build.json tsconfig.json package-lock.json

build: dist/.built

dist/.built: node_modules/.installed $(TS_SOURCES)
	npx tsc -p tsconfig.build.json
	@touch $@

# The web app (web/, Vite): its own npm project, built into web/dist and served by Tolk at /.
WEB_SOURCES := $(shell find web/src -type f) web/index.html web/vite.config.ts web/tsconfig.json web/tsconfig.node.json

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build

web-build: web/dist/index.html

lint: node_modules/.installed
	npm run lint

typecheck: node_modules/.installed
	npx tsc -p tsconfig.json --noEmit

bench: deps node_modules/.installed build
	node --import tsx bench/stream-latency.ts

# End of speech → first translated audio frame through a real LiveKit SFU, against /vt in the same run.
bench-rooms: deps node_modules/.installed livekit
	node --import tsx bench/room-latency.ts

# Energy vs Silero VAD on noisy LibriVox (endpoint latency, false endpoints, missed speech, CPU), then
# the WER of pocketsphinx finals with and without background_voice_cancellation (RNNoise), each in one run.
# WER and real-time factor of every configured STT engine (TOLK_ENGINES / TOLK_ENGINES_FILE) beside the pocketsphinx CLI.
bench-stt: deps node_modules/.installed
	node --import tsx bench/stt-accuracy.ts

bench-vad: deps node_modules/.installed
	node --import tsx bench/vad.ts
	node --import tsx bench/noise-suppression.ts

clean:
	rm -rf dist node_modules web/dist web/node_modules .tools
