# probevision: a thin wrapper over Meson.
#   make demo   install what is missing, build, run the job on the simulated station
#   make test   install what is missing, build, run the whole suite (plain, ASan+UBSan, TSan)
#   make bench  also install OpenCV (benchmark only), run the vision benchmarks
#               (luma, matcher, search region, vision per point, threads) and acquisition
#   make fuzz   build the libFuzzer targets (clang) in build-fuzz/, run each FUZZ_SECONDS
#   make deps | build | clean

BUILD   ?= build
MESON   ?= meson
DEMO_ARGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test bench fuzz clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Dwerror=true

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

demo: build
	$(BUILD)/probevision run --db results.db $(DEMO_ARGS)

test: deps
	@scripts/install-deps --photos
	@scripts/run-tests

bench: deps
	@scripts/install-deps --bench
	$(MESON) setup $(BUILD) --reconfigure --buildtype=debugoptimized >/dev/null 2>&1 || $(MESON) setup $(BUILD) --buildtype=debugoptimized
	@scripts/install-deps --photos
	$(MESON) compile -C $(BUILD) bench/bench_luma bench/bench_match bench/bench_align bench/bench_point bench/bench_threads
	$(BUILD)/bench/bench_luma
	$(BUILD)/bench/bench_match $(BENCH_ARGS)
	$(BUILD)/bench/bench_align
	$(BUILD)/bench/bench_point
	$(BUILD)/bench/bench_threads
	python3 bench/bench_acquisition.py --bin $(BUILD)/probevision

fuzz: deps
	@scripts/install-deps --fuzz
	@tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
