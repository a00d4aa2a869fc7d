# Convene: `make run` starts the server, `make test` runs every test.
SHELL := /bin/bash
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 7353
DATA_DIR ?= ./data
APT_PACKAGES := libprotobuf-c-dev protobuf-c-compiler protobuf-compiler zlib1g-dev libsqlite3-dev pkg-config python3-venv
PROTO_FILES := $(shell find Protos -name '*.proto' | sort)
GEN_SWIFT := Sources/ConveneProtos/Generated

FUZZ_SECONDS ?= 60

.PHONY: deps build run test protos clean fuzz test-asan test-tsan bench bench-compare soak

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

## run: build and start convened on $(HOST):$(PORT) with data in $(DATA_DIR).
run: build
	$(SWIFT) run convened --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

## test: the whole suite, conformance against a real server on 127.0.0.1 included, then the
## gRPC listener against grpcio (Python, in a virtual environment under .build/).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/grpc-python-tests.sh

## protos: regenerate the committed Swift code and descriptor set from Protos/.
protos: deps
	$(SWIFT) build --product protoc-gen-swift
	rm -rf $(GEN_SWIFT) && mkdir -p $(GEN_SWIFT)
	protoc -I Protos -I /usr/include --plugin=protoc-gen-swift=$$($(SWIFT) build --show-bin-path)/protoc-gen-swift \
	  --swift_out=$(GEN_SWIFT) --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores $(PROTO_FILES)
	protoc -I Protos -I /usr/include --include_imports --descriptor_set_out=/tmp/convene-descriptors.pb $(PROTO_FILES)
	scripts/embed-descriptors.sh /tmp/convene-descriptors.pb > $(GEN_SWIFT)/DescriptorSet.swift
	# C plugins (protobuf-c): each plugin's own messages and those of the services it reads.
	rm -rf Plugins/common/gen && mkdir -p Plugins/common/gen
	protoc-c -I Protos -I /usr/include --c_out=Plugins/common/gen convene/consultation/v1/consultation.proto \
	  google/protobuf/timestamp.proto
	for plugin in friends msc taskforce; do \
	  rm -rf Plugins/$$plugin/gen && mkdir -p Plugins/$$plugin/gen && \
	  protoc-c -I Protos -I /usr/include --c_out=Plugins/$$plugin/gen convene/$$plugin/v1/$$plugin.proto && \
	  scripts/embed-c-descriptors.sh $$plugin convene/$$plugin/v1/$$plugin.proto > Plugins/$$plugin/gen/$${plugin}_descriptor_set.h; \
	done
	# Swift plugins: the service messages they read, and each one's own messages and descriptor set.
	rm -rf Plugins/messages/Generated && mkdir -p Plugins/messages/Generated
	protoc -I Protos -I /usr/include --plugin=protoc-gen-swift=$$($(SWIFT) build --show-bin-path)/protoc-gen-swift \
	  --swift_out=Plugins/messages/Generated --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
	  convene/consultation/v1/consultation.proto convene/briefing/v1/briefing.proto
	for entry in training:TrainingCentres recon:ReconnaissanceVisits missions:CouncilMissions \
	             publicinfo:PublicInformation assessment:FollowUpAssessment; do \
	  plugin=$${entry%%:*}; type=$${entry##*:}; \
	  rm -rf Plugins/$$plugin/Generated && mkdir -p Plugins/$$plugin/Generated && \
	  scripts/swift-plugin-entry.sh $$type > Plugins/$$plugin/Generated/Entry.swift && \
	  protoc -I Protos -I /usr/include --plugin=protoc-gen-swift=$$($(SWIFT) build --show-bin-path)/protoc-gen-swift \
	    --swift_out=Plugins/$$plugin/Generated --swift_opt=FileNaming=PathToUnderscores convene/$$plugin/v1/$$plugin.proto && \
	  scripts/embed-swift-descriptors.sh $${plugin}DescriptorSet convene/$$plugin/v1/$$plugin.proto \
	    > Plugins/$$plugin/Generated/DescriptorSet.swift; \
	done

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
	for target in frames decompression connection plugin; do \
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

## bench-compare: Convene against gRPC C++ (an echo server of ours on libgrpc++) and Redis 7, one run,
## one machine; results in .build-compare/results.md (see Docs/BENCHMARKS.md). COMPARE_ARGS passes options.
COMPARE_PACKAGES := libgrpc++-dev protobuf-compiler-grpc redis-server redis-tools
COMPARE_GEN := .build-compare/gen
bench-compare: deps
	@$(call install_packages,$(COMPARE_PACKAGES))
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	mkdir -p $(COMPARE_GEN)
	protoc -I Protos --cpp_out=$(COMPARE_GEN) --grpc_out=$(COMPARE_GEN) --plugin=protoc-gen-grpc=$$(which grpc_cpp_plugin) \
	  convene/benchmark/v1/benchmark.proto
	for tool in server client; do \
	  g++ -O2 -std=c++17 -I $(COMPARE_GEN) Benchmarks/compare/grpc_echo_$$tool.cc $(COMPARE_GEN)/convene/benchmark/v1/*.cc \
	    $$(pkg-config --cflags --libs grpc++ protobuf) -o .build-compare/grpc-echo-$$tool || exit 1; \
	done
	python3 scripts/bench-compare.py $(COMPARE_ARGS)

## soak: mixed load on a release server for SOAK_SECONDS (default 300); throughput, errors and memory at
## intervals; fails when memory does not level off or a call fails.
SOAK_SECONDS ?= 300
soak: deps
	$(SWIFT) build -c release --product convened
	$(SWIFT) build -c release --product convene
	python3 scripts/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan .build-compare
