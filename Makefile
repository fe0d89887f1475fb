# The project's two commands (see README):
#   make demo   builds and runs the demo on the real clock
#   make test   installs what is missing, then runs every check and test
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test setup fmt-check clippy unit wasm-check conformance bench

demo: setup
	$(CARGO) run --quiet --release -p hystrix-core --example demo

test: setup fmt-check clippy unit wasm-check conformance
	@echo "make test: all checks passed"

# Idempotent: only installs what a fresh machine lacks.
setup:
	@scripts/setup.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

# Unit, property, integration and doc tests of every crate.
unit:
	$(CARGO) test --workspace --quiet

# The core must build for the browser: no system clock, no threads needed.
wasm-check:
	$(CARGO) check --quiet -p hystrix-core --target wasm32-unknown-unknown

conformance:
	tests/conformance/run

# Not part of `make test`: benchmarks are noisy and slow; see BENCHMARKS.md.
bench:
	$(CARGO) bench -p hystrix-core --bench closed_path

# Regenerates bindings-c/include/hystrix.h (the unit tests fail while it is stale).
header:
	$(CARGO) build --quiet -p hystrix-c
	cp "$$(ls -t target/debug/build/hystrix-c-*/out/hystrix.h | head -1)" bindings-c/include/hystrix.h
