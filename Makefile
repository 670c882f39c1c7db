# Thin wrapper over meson. `make demo` and `make check` install missing Debian packages first.
MESON ?= meson
BUILD ?= build

.PHONY: all deps build demo check test-plain test-asan test-fuzz-regress bench fuzz install clean

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	@scripts/deps
	$(MESON) setup $(BUILD) --buildtype=release >/dev/null

# Everything: the binary, the libraries, and (at -O3, for its warnings) the tests.
build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@scripts/demo $(BUILD)/antibody

# Every test: plain (with test hooks) and ASan+UBSan builds (all but the parity suite), plus the
# fuzz targets over their seed corpora. The last line printed is "N passed, N failed".
check: deps
	@rm -f build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json
	@mkdir -p build && rm -f build/release-check.failed
	@# The generated fixtures that several e2e tests use: made afresh by each check, once for both
	@# test runs (tests/e2e/e2e.sh, gen_cached).
	@rm -rf build-test/e2e-fixtures
	@[ -f build-test/build.ninja ] || $(MESON) setup build-test -Dtest_hooks=true >/dev/null
	@[ -f build-asan/build.ninja ] || $(MESON) setup build-asan -Dtest_hooks=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@[ -f build-fuzz/build.ninja ] || CC=clang $(MESON) setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	-ninja -C build-test && E2E_FIXTURES=$(CURDIR)/build-test/e2e-fixtures \
		$(MESON) test -C build-test --print-errorlogs --num-processes 2
	@# ASan+UBSan: every suite but 'parity' (tests/e2e/meson.build says why).
	-ninja -C build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 E2E_FIXTURES=$(CURDIR)/build-test/e2e-fixtures \
		$(MESON) test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
		--no-suite parity
	@# The fuzz tree compiles every object with clang (its warnings: the library, the CLI, the unit
	@# tests) but links only what its tests run, the fuzz targets (meson test builds a test's
	@# dependencies): the unit tests and the CLI are linked and run in build-test and build-asan.
	-ninja -C build-fuzz build.ninja && ninja -C build-fuzz $$(ninja -C build-fuzz -t targets all | \
		sed -n 's/^\([^:]*\.o\): .*/\1/p') && \
		$(MESON) test -C build-fuzz --suite fuzz --print-errorlogs
	@# The release tree too: make demo builds it, and -O3 warns where -O2 does not.
	@$(MAKE) --no-print-directory build >build/release-check.log 2>&1 || \
		{ tail -20 build/release-check.log; touch build/release-check.failed; }
	@scripts/test-summary build-test build-asan build-fuzz

bench: build
	@scripts/deps --bench
	@bench/sweep $(BUILD)/antibody

FUZZ_SECONDS ?= 60
fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang $(MESON) setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C build-fuzz
	@tests/fuzz/run build-fuzz $(FUZZ_SECONDS)

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-test build-asan build-fuzz
