# cflog: `make demo` (the main job, no AWS account needed) and `make test` (every test).
# One target directory outside the clone keeps later runs (and CI on this machine) warm.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/cflog/target
CARGO ?= cargo
CFLOG := $(CARGO_TARGET_DIR)/release/cflog
DEMO_DIR := $(CARGO_TARGET_DIR)/demo

.PHONY: demo test setup-rust test-rust test-wasm bench compare fuzz lint plugins FORCE debug-bins

## demo: generate a sample, show typed records and the terminal dashboard.
demo: $(CFLOG)
	@mkdir -p $(DEMO_DIR)
	@echo "== cflog gen: 200,000 synthetic real-time lines (46-field layout) =="
	$(CFLOG) gen --format realtime --lines 200000 --seed 7 --gzip > $(DEMO_DIR)/realtime.log.gz
	$(CFLOG) gen --format standard --lines 50000 --seed 7 > $(DEMO_DIR)/standard.log
	@ls -lh $(DEMO_DIR)/realtime.log.gz $(DEMO_DIR)/standard.log
	@echo
	@echo "== cflog parse: first real-time record as typed JSON (layout inferred from 46 fields) =="
	$(CFLOG) parse $(DEMO_DIR)/realtime.log.gz | head -n 1
	@echo
	@echo "== cflog parse: the AWS documentation's standard-log example =="
	$(CFLOG) parse tests/fixtures/standard/aws-doc-2019-33col.log | head -n 1
	@echo
	@echo "== cflog analyze: the terminal dashboard of the real-time sample =="
	$(CFLOG) analyze $(DEMO_DIR)/realtime.log.gz
	@echo "== cflog analyze --json | cflog merge: reports from two files merge into one =="
	$(CFLOG) analyze --json $(DEMO_DIR)/realtime.log.gz > $(DEMO_DIR)/realtime.report.json
	$(CFLOG) analyze --json $(DEMO_DIR)/standard.log > $(DEMO_DIR)/standard.report.json
	$(CFLOG) merge --json $(DEMO_DIR)/realtime.report.json $(DEMO_DIR)/standard.report.json \
	  | python3 -c 'import json,sys; r=json.load(sys.stdin); print("merged report:", r["records"], "records,", r["unique_viewers"], "unique viewers, p99", r["latency_ms"]["time_taken"]["p99"], "ms")'
	@$(MAKE) --no-print-directory demo-lambda
	@$(MAKE) --no-print-directory demo-web

# No AWS SDK in the release build: the demo's Kinesis half (demo-lambda) runs the debug
# build that `make test` already compiled, so the SDK is never built in two profiles.
$(CFLOG): FORCE
	$(CARGO) build --release -p cflog-cli --no-default-features
FORCE:

setup-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## test: every test. Installs what it needs (rustup target) idempotently.
test: setup-rust setup-venv plugins test-rust test-wasm test-simd-aarch64 test-simd-wasm test-deploy test-web
	@echo "make test: all suites passed"

# The debug `cflog` the demo and the browser tests run comes from exactly the invocation
# `test-rust` makes (a `cargo build -p cflog-cli` unifies features differently and would
# build the AWS SDKs and wasmtime a second time).
WORKSPACE_TESTS := $(CARGO) test --workspace --exclude cflog-bench
debug-bins:
	$(WORKSPACE_TESTS) --no-run

test-rust:
	$(WORKSPACE_TESTS)
	$(CARGO) test -p cflog-bench --benches --bins --no-run

## test-wasm: cflog-core must build for the browser without std.
test-wasm: setup-rust
	$(CARGO) build -p cflog-core --no-default-features --target wasm32-unknown-unknown

## test-simd-aarch64: the field splitter's tests (NEON path) built for aarch64, the
## Lambda's Graviton, and run under qemu user emulation. Installs what it needs.
AARCH64_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
.PHONY: setup-aarch64 test-simd-aarch64
setup-aarch64:
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null || \
	  { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu; }
test-simd-aarch64: setup-aarch64
	$(AARCH64_ENV) $(CARGO) test -p cflog-simd --target aarch64-unknown-linux-gnu

## test-simd-wasm: the same tests (simd128 path, against the scalar splitter) built for
## wasm32-wasip1 with +simd128 and run under Node's WASI (simd/tests/wasi-run.mjs, which
## gives the guest the repository so the fuzz corpus and proptest's seeds are read).
## Installs the rustup target; needs Node 20 or later, like the browser tests.
WASI_ENV := CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C target-feature=+simd128" \
  CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $(CURDIR)/simd/tests/wasi-run.mjs"
.PHONY: setup-wasi test-simd-wasm
setup-wasi:
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "test-simd-wasm: needs Node 20 or later (node:wasi preview1)"; exit 1; }
test-simd-wasm: setup-wasi
	$(WASI_ENV) $(CARGO) test -p cflog-simd --target wasm32-wasip1

## bench: criterion benchmarks; figures go to bench/RESULTS.md by hand, with the command.
bench:
	$(CARGO) bench -p cflog-bench

## compare: cflog analyze next to the memchr scan, DuckDB (pinned, bench-only venv),
## GoAccess (Debian package, installed when absent) and a naive Node.js per-line
## implementation, on the same generated files (issue 13). Figures go to bench/RESULTS.md.
COMPARE_ARGS ?=
compare: $(CFLOG)
	$(CARGO) build --release -p cflog-bench --bin cflog-scan
	python3 bench/compare.py $(COMPARE_ARGS)

## fuzz: run the FUZZ_TARGET fuzz target (parse_line, decode_state, chunk_walk or base64) for FUZZ_SECONDS
## (needs cargo-fuzz and RUSTC_BOOTSTRAP).
FUZZ_TARGET ?= parse_line
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $(FUZZ_TARGET) --sanitizer none corpus/$(FUZZ_TARGET) -- -max_total_time=$(FUZZ_SECONDS)

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# ---- plugins (issue 5): example enrichment rules as wasm modules ------------------------
## plugins: build the example rules (.wasm) that the plugin tests, the CLI tests and the
## benchmark load from $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/release/.
## Built with simd128 (the guest SDK's field split and memchr take their vector paths;
## wasmtime and every current browser run it): bots -1,570 and paths -270 instructions
## per record (bench/RESULTS.md, issue 13).
PLUGIN_RULES := cflog-rule-bots cflog-rule-paths cflog-rule-security
plugins: setup-rust
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
	  $(CARGO) build --target wasm32-unknown-unknown --release $(addprefix -p ,$(PLUGIN_RULES))
# ---- end plugins ------------------------------------------------------------------------

# ---- browser inspector (issue 6): cflog-wasm + web-demo/ -----------------------------------
# site: the static site in web-demo/dist (wasm core via wasm-bindgen, page, uPlot, example
# rule, generated sample). test-web: the page in real headless Chromium (Playwright).
# The wasm build uses SIMD128 (memchr's vector search; every current browser has it) and
# fat LTO, in its own target directory so the plugin rules' wasm32 build (other flags) and
# this one do not rebuild each other. The site also carries the example rules. Its memcmp
# (compiler-builtins compares byte by byte on wasm32) is replaced by web-demo/wasm/memcmp.wat
# (16 bytes at a time) after wasm-bindgen.
WASM_BINDGEN_VERSION := 0.2.130
WEB := web-demo
WEB_DIST := $(WEB)/dist
CFLOG_DEBUG := $(CARGO_TARGET_DIR)/debug/cflog
WEB_PORT ?= 8000
SITE_WASM_DIR := $(CARGO_TARGET_DIR)/site-wasm
.PHONY: site web-deps wasm-bindgen-cli chromium test-web bench-web demo-web

wasm-bindgen-cli:
	@wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" || \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --no-default-features

chromium:
	@test -x /usr/bin/chromium || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

web-deps:
	cd $(WEB) && npm ci --no-audit --no-fund

site: setup-rust wasm-bindgen-cli web-deps plugins
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" CARGO_PROFILE_RELEASE_LTO=fat \
	  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 $(CARGO) build -p cflog-wasm --target wasm32-unknown-unknown --release \
	  --target-dir $(SITE_WASM_DIR)
	@$(MAKE) --no-print-directory debug-bins
	rm -rf $(WEB_DIST) && mkdir -p $(WEB_DIST)
	wasm-bindgen --target web --no-typescript --out-dir $(WEB_DIST)/pkg $(SITE_WASM_DIR)/wasm32-unknown-unknown/release/cflog_wasm.wasm
	cd $(WEB) && node wasm/memcmp.mjs dist/pkg/cflog_wasm_bg.wasm
	cd $(WEB) && node build.mjs
	mkdir -p $(WEB_DIST)/rules && cp $(foreach r,$(PLUGIN_RULES),$(CARGO_TARGET_DIR)/wasm32-unknown-unknown/release/$(subst -,_,$(r)).wasm) $(WEB_DIST)/rules/
	$(CFLOG_DEBUG) gen --format realtime --lines 20000 --seed 1 --rate 4 --gzip -o $(WEB_DIST)/sample.log.gz

test-web: site chromium
	cd $(WEB) && CFLOG=$(CFLOG_DEBUG) node --test --test-concurrency=1 tests/

## bench-web: browser throughput vs native (figures go to bench/RESULTS.md by hand).
bench-web: site chromium $(CFLOG)
	cd $(WEB) && CFLOG=$(CFLOG) node bench/bench.mjs

demo-web: site
	@echo
	@echo "== the browser inspector: a static site in $(WEB_DIST) (no backend; nothing leaves the page) =="
	@echo "   serve it:  python3 -m http.server -b 127.0.0.1 $(WEB_PORT) -d $(WEB_DIST)"
	@echo "   then open: http://127.0.0.1:$(WEB_PORT)/   (and press \"Try with sample data\")"
# ---- end browser inspector ---------------------------------------------------------------

# ---- Lambda processor (issue 4): local AWS for the tests, the arm64 bootstrap zip --------
VENV := $(CURDIR)/.venv
# The moto integration tests in host-lambda/tests/ find moto here (and fail without it).
export CFLOG_MOTO := $(VENV)/bin/moto_server
LAMBDA_ZIP := $(CARGO_TARGET_DIR)/lambda/bootstrap/bootstrap.zip

.PHONY: setup-venv setup-cargo-lambda lambda demo-lambda

## setup-venv: .venv with moto[server] (idempotent).
setup-venv:
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@test -x $(CFLOG_MOTO) || $(VENV)/bin/pip install -q 'moto[server]'

## setup-cargo-lambda: cargo-lambda and zig (0.17.1: zig 0.16 breaks aws-lc-sys/ring) from PyPI.
setup-cargo-lambda: setup-venv
	@test -x $(VENV)/bin/cargo-lambda || $(VENV)/bin/pip install -q cargo-lambda 'ziglang==0.17.1'

## lambda: the provided.al2023 arm64 bootstrap zip, stripped (CI runs it after make test).
lambda: setup-cargo-lambda
	PATH=$(VENV)/bin:$$PATH CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
	  $(CARGO) lambda build --release --arm64 --output-format zip -p cflog-lambda
	@ls -l $(LAMBDA_ZIP)

## demo-lambda: gen -> replay -> consume (the Lambda handler) against a local moto server,
## then what landed in CloudWatch, DynamoDB and the enriched stream next to cflog analyze.
demo-lambda: setup-venv debug-bins
	host-lambda/demo.sh $(CFLOG_DEBUG) $(VENV) $(DEMO_DIR)/lambda

## ---- deploy (issue 7): the SAM template, checked offline against the code ----------------
## test-deploy (in make test): cfn-lint, then deploy/check_template.py (names, least
## privilege, event source mapping, build settings) with the names compiled from
## host-lambda/src/names.rs, then the checker's own tests.
## deploy-check (CI, after `make lambda`): cargo lambda's arm64 output is where the template's
## functions (rust-cargolambda, Binary) expect it.
DEPLOY_VENV := .venv
DEPLOY_NAMES := $(CARGO_TARGET_DIR)/deploy/names.json
CFN_LINT_VERSION := 1.58.0
# Parses the Athena named queries (Trino dialect) in deploy/check_search.py.
SQLGLOT_VERSION := 30.30.0
.PHONY: setup-deploy test-deploy deploy-check

setup-deploy:
	@test -x $(DEPLOY_VENV)/bin/python || python3 -m venv $(DEPLOY_VENV)
	@$(DEPLOY_VENV)/bin/cfn-lint --version 2>/dev/null | grep -qF "$(CFN_LINT_VERSION)" \
	  || $(DEPLOY_VENV)/bin/pip install -q "cfn-lint==$(CFN_LINT_VERSION)"
	@$(DEPLOY_VENV)/bin/python -c "import sqlglot, sys; sys.exit(sqlglot.__version__ != '$(SQLGLOT_VERSION)')" 2>/dev/null \
	  || $(DEPLOY_VENV)/bin/pip install -q "sqlglot==$(SQLGLOT_VERSION)"
	@# jq runs the archive's partition query (Firehose's JQ) in deploy/test_check_search.py.
	@command -v jq >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq; }

test-deploy: setup-deploy
	@mkdir -p $(dir $(DEPLOY_NAMES))
	$(CARGO) run -q -p cflog-deploy-names > $(DEPLOY_NAMES)
	$(DEPLOY_VENV)/bin/cfn-lint deploy/template.yaml
	$(DEPLOY_VENV)/bin/python deploy/check_template.py --names $(DEPLOY_NAMES) deploy/template.yaml
	CFLOG_NAMES_JSON=$(DEPLOY_NAMES) $(DEPLOY_VENV)/bin/python -m unittest deploy/test_check_template.py deploy/test_check_alerts.py deploy/test_check_search.py deploy/test_opensearch_objects.py

deploy-check: setup-deploy
	$(DEPLOY_VENV)/bin/python deploy/check_template.py --build-output $(CARGO_TARGET_DIR) deploy/template.yaml
## ---- end deploy ----------------------------------------------------------------------------
