# The project's commands. `make demo` and `make test` are the two that matter;
# both set up what they need on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROJECT := rust-lambda-automations
PYTHON ?= python3

# CI starts from a fresh clone each time: keep the cargo target dir and the
# venv outside the checkout so a run reuses the last one's build.
ifeq ($(CI),true)
CACHE_DIR ?= $(HOME)/.cache/$(PROJECT)
export CARGO_TARGET_DIR ?= $(CACHE_DIR)/target
VENV ?= $(CACHE_DIR)/venv
else
VENV ?= .venv
endif
VENV := $(abspath $(VENV))
export MOTO_SERVER := $(VENV)/bin/moto_server
export SAM_CLI_TELEMETRY := 0
BIN_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
TEST_LOG := $(BIN_DIR)/test-output.log
REQ_HASH = $(shell cat tools/requirements-test.txt | sha256sum | cut -c1-16)
PKG_HASH = $(shell cat tools/requirements-package.txt | sha256sum | cut -c1-16)

.PHONY: help venv venv-package fmt lint template-check build test demo bench package local-cloud clean

help:
	@echo "make demo         run every function end to end against the local cloud"
	@echo "make test         fmt, clippy, template checks, unit + end-to-end tests"
	@echo "make bench        release figures for BENCHMARKS.md (SECTIONS=\"enricher sbom ...\" for some)"
	@echo "make package      sam build (x86_64, no Docker) and zipped sizes"
	@echo "make local-cloud  moto + local-aws in the foreground, with the env exports"

$(VENV)/.req-$(REQ_HASH):
	@echo "==> python venv $(VENV) (tools/requirements-test.txt)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-test.txt
	@rm -f $(VENV)/.req-* && touch $@

venv: $(VENV)/.req-$(REQ_HASH)

$(VENV)/.pkg-$(PKG_HASH): $(VENV)/.req-$(REQ_HASH)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-package.txt
	@rm -f $(VENV)/.pkg-* && touch $@

venv-package: $(VENV)/.pkg-$(PKG_HASH)

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

template-check: venv
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1 --template template.yaml

build:
	cargo build --workspace --bins

# End-to-end tests run the function binaries, so they are built first (same
# profile as the tests: nothing is compiled twice).
test: venv
	@echo "==> fmt";            cargo fmt --all -- --check
	@echo "==> template";       $(MAKE) --no-print-directory template-check
	@echo "==> clippy";         cargo clippy --workspace --all-targets -- -D warnings
	@echo "==> build";          cargo build --workspace --bins
	@echo "==> tests";          mkdir -p $(dir $(TEST_LOG))
	@cargo test --workspace 2>&1 | tee $(TEST_LOG); status=$${PIPESTATUS[0]}; \
	  tools/test-summary.sh $(TEST_LOG) || true; exit $$status

# The demo and bench binaries are run from the workspace build itself: `cargo run -p
# e2e-tests` would unify features for that one package and compile everything again.
demo: venv build
	$(BIN_DIR)/debug/demo

bench: venv
	cargo build --release --workspace --bins
	$(BIN_DIR)/release/bench $(SECTIONS)

# SAM copies from <CodeUri>/target/lambda, so no absolute CARGO_TARGET_DIR here.
package: venv-package
	env -u CARGO_TARGET_DIR PATH="$(VENV)/bin:$$PATH" CARGO_LAMBDA_COMPILER=cargo \
	  sam build --parameter-overrides Architecture=x86_64
	@$(VENV)/bin/python tools/zipped-sizes.py .aws-sam/build

local-cloud: venv
	cargo run --quiet -p e2e-tests --bin local-cloud

clean:
	cargo clean
	rm -rf .aws-sam
