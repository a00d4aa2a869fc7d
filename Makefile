# Convene: `make run` starts the server, `make test` runs every test.
SHELL := /bin/bash
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 7353
METRICS_PORT ?= 9353
DATA_DIR ?= ./data
APT_PACKAGES := libprotobuf-c-dev protobuf-c-compiler protobuf-compiler zlib1g-dev libsqlite3-dev pkg-config python3-venv openssl
# What the tests use beyond the build: a real browser for the status page.
TEST_PACKAGES := chromium

FUZZ_SECONDS ?= 60

.PHONY: deps build run test protos check-protos generators clean fuzz test-asan test-tsan bench bench-cluster bench-metrics bench-before-after bench-compare soak mutate attack install-sdk

## deps: install the system packages the build needs (apt, as root), or say which are missing.
deps:
	@$(call install_packages,$(APT_PACKAGES))

# Installs the Debian packages named in $(1) that are missing (as root), or says how.
define install_packages
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "installing:$$missing"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
  else \
    echo "missing system packages:$$missing"; \
    echo "install them with: sudo apt-get install -y$$missing"; exit 1; \
  fi; \
fi
endef

build: deps
	$(SWIFT) build

## run: build and start convened on $(HOST):$(PORT) (native), :7354 (gRPC) and :$(METRICS_PORT) (metrics and
## status page), with data in $(DATA_DIR).
run: build
	$(SWIFT) run convened --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --metrics-port $(METRICS_PORT)

## test: the whole suite, conformance against a real server on 127.0.0.1 included, after checking
## that the generated code is what the protos make and that every mutation of `make mutate` still
## applies, beside a private PostgreSQL (scripts/with-postgres.sh: installed from Debian's packages
## when missing, a temporary cluster on a free port, stopped at the end) for the PostgreSQL store and
## the cluster tests; the service suite a second time with every test server on PostgreSQL
## (CONVENE_TEST_STORE=postgres); and the gRPC listener against grpcio (Python, in a virtual
## environment under .build/). scripts/run-tests.py runs them on as many lanes as there are cores
## (TEST_JOBS), one test class at a time per lane, and names every job that failed at the end.
TEST_JOBS ?= $(shell nproc)

test: deps check-protos
	@$(call install_packages,$(TEST_PACKAGES))
	@scripts/mutate.py --list >/dev/null || { scripts/mutate.py --list; exit 1; }
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh scripts/run-tests.py --jobs $(TEST_JOBS)

## protos: regenerate every file generated from Protos/ (committed), each proto once per language:
## Swift messages (ConveneMessages), services and stubs (protoc-gen-convene), the plugins of
## Plugins/plugins.list. See scripts/generate-protos.sh.
protos: deps generators
	scripts/generate-protos.sh . $(GENERATORS_BIN)

## check-protos: fail when the committed generated files are not what `make protos` writes.
check-protos: deps generators
	scripts/check-protos.sh $(GENERATORS_BIN)

# The generators build in a folder of their own: once a dependency's product (protoc-gen-swift)
# has been built in .build/, SwiftPM's next `swift build` there also compiles swift-protobuf's C++
# protoc, twice, which costs many minutes and is never used.
GENERATORS_SCRATCH := .build-generators
GENERATORS_BIN = $$($(SWIFT) build --scratch-path $(GENERATORS_SCRATCH) --show-bin-path)
generators:
	$(SWIFT) build --scratch-path $(GENERATORS_SCRATCH) --product protoc-gen-swift
	$(SWIFT) build --scratch-path $(GENERATORS_SCRATCH) --product protoc-gen-convene

## install-sdk: the plugin developer kit under PREFIX (default .build/sdk, so no root is needed): the ABI
## header and C helpers, convene-plugin.pc, convene-plugin-protoc, the Swift SDK as a package, and the
## convene, convened and convene-plugin-runner already built (BUILD_BIN, default the debug build's).
## See Docs/PLUGINS.md and scripts/install-sdk.sh.
PREFIX ?= $(CURDIR)/.build/sdk
install-sdk: deps generators
	scripts/install-sdk.sh $(PREFIX) $(GENERATORS_BIN) $${BUILD_BIN:-$$($(SWIFT) build --show-bin-path)}

## mutate: breaks one rule at a time (scripts/mutations.py) and checks that the tests catch each;
## prints the score. MUTATE_ARGS="--only NAME" runs some, "--list" checks they still apply.
mutate: deps
	scripts/mutate.py $(MUTATE_ARGS)

## test-asan / test-tsan: the whole suite under AddressSanitizer / ThreadSanitizer, in their own build folders.
test-asan: deps
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --scratch-path .build-asan --sanitize=address

test-tsan: deps
	$(SWIFT) test --scratch-path .build-tsan --sanitize=thread -Xlinker --export-dynamic

## fuzz: libFuzzer (with AddressSanitizer) on each target for FUZZ_SECONDS, from the seed corpus.
## A crash leaves its input in Tests/FuzzCorpus/crashes/: fix it and keep the input; `make test` replays it.
fuzz: deps
	$(SWIFT) build --scratch-path .build-fuzz --product convene-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
	mkdir -p Tests/FuzzCorpus/crashes
	for target in frames decompression connection fields plugin; do \
	  work=$$(mktemp -d) && cp -r Tests/FuzzCorpus/$$target/. $$work/ 2>/dev/null; \
	  CONVENE_FUZZ_TARGET=$$target ASAN_OPTIONS=detect_leaks=0 \
	    $$($(SWIFT) build --scratch-path .build-fuzz --show-bin-path)/convene-fuzz $$work \
	    -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=Tests/FuzzCorpus/crashes/$$target- -print_final_stats=1 || exit 1; \
	  rm -rf $$work; \
	done

## bench: the micro benchmarks (package-benchmark, in the Benchmarks/ package): time and mallocs of frame
## encode/decode, a unary call through the router and through a whole connection, and a plugin call.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark $(BENCH_ARGS)

## bench-metrics: server CPU per echo call with and without --metrics-port, two release servers side by
## side (scripts/bench-pair.py --metrics; BENCH_PAIR_ARGS: --repeats N --seconds S --levels 1,16,64).
bench-metrics: deps
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	python3 scripts/bench-pair.py --metrics $(BENCH_PAIR_ARGS)

## bench-before-after: this build against an earlier commit (BASELINE, by default the one before the
## connection state machine), built in .build-baseline, side by side (scripts/bench-pair.py --baseline-bin).
BASELINE ?= 174396a^
bench-before-after: deps
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	rm -rf .build-baseline/src && mkdir -p .build-baseline/src
	git archive $(BASELINE) | tar -x -C .build-baseline/src
	cd .build-baseline/src && $(SWIFT) build -c release --product convened && $(SWIFT) build -c release --product convene
	python3 scripts/bench-pair.py --baseline-bin .build-baseline/src/.build/release $(BENCH_PAIR_ARGS)

## bench-cluster: the consultation write path (ConveneMeeting) on SQLite and on PostgreSQL, one server and
## three, release builds, beside a private PostgreSQL (scripts/bench-cluster.sh; CLUSTER_BENCH_ARGS: SECONDS CONCURRENCY).
bench-cluster: deps
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	scripts/with-postgres.sh scripts/bench-cluster.sh $(CLUSTER_BENCH_ARGS)

## bench-compare: Convene against gRPC C++ (an echo server of ours on libgrpc++) and Redis 7, one run,
## one machine; results in .build-compare/results.md (see Docs/BENCHMARKS.md). COMPARE_ARGS passes options.
COMPARE_PACKAGES := libgrpc++-dev protobuf-compiler-grpc redis-server redis-tools
COMPARE_GEN := .build-compare/gen
bench-compare: deps
	@$(call install_packages,$(COMPARE_PACKAGES))
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	$(SWIFT) build -c release --product ConveneTemplatePlugin
	$(SWIFT) build -c release --product convene-plugin-runner
	mkdir -p $(COMPARE_GEN)
	protoc -I Protos --cpp_out=$(COMPARE_GEN) --grpc_out=$(COMPARE_GEN) --plugin=protoc-gen-grpc=$$(which grpc_cpp_plugin) \
	  convene/benchmark/v1/benchmark.proto
	for tool in server client; do \
	  g++ -O2 -std=c++17 -I $(COMPARE_GEN) Benchmarks/compare/grpc_echo_$$tool.cc $(COMPARE_GEN)/convene/benchmark/v1/*.cc \
	    $$(pkg-config --cflags --libs grpc++ protobuf) -o .build-compare/grpc-echo-$$tool || exit 1; \
	done
	python3 scripts/bench-compare.py $(COMPARE_ARGS)

## soak: mixed load (plugin calls included) on a release server for SOAK_SECONDS (default 300); throughput, errors and memory at
## intervals; fails when memory does not level off or a call fails.
SOAK_SECONDS ?= 300
SOAK_PRODUCTS = convened convene ConveneTemplatePlugin \
	$(addprefix ConvenePlugin_,$(shell grep -v '^\#' Plugins/plugins.list | awk 'NF {print $$1}'))
soak: deps
	@for product in $(SOAK_PRODUCTS); do $(SWIFT) build -c release --product $$product || exit 1; done
	python3 scripts/soak.py --seconds $(SOAK_SECONDS)

## attack: replays the attacks of issue 11 against a release convened on 127.0.0.1 (bounded in time, about
## 6 minutes), a prober measuring health, an echo and an authenticated call from other connections; prints a
## table (see Docs/SECURITY.md). ATTACK_ARGS passes options (--only NAME,... --seconds S --budget 256M).
attack: deps
	$(SWIFT) build -c release --product convened
	$$(scripts/python-venv.sh) scripts/attack.py $(ATTACK_ARGS)

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan .build-compare
