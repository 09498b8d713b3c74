# specinv: the two commands a fresh machine needs are `make run` and `make test`.
JOBS ?= $(shell nproc)
BUILD_RELEASE := build/release
BUILD_TEST := build/asan
BUILD_FUZZ := build/fuzz
# ccache (installed by scripts/install-deps.sh) lets the release and test trees and later runs share objects.
CCACHE = $(shell command -v ccache 2>/dev/null)
CMAKE_COMMON = -G Ninja -DSPECINV_WERROR=ON $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

.PHONY: all deps build run test bench quality quality-linear fault-test deploy-test fuzz clean

all: build

deps:
	@scripts/install-deps.sh

# Release build of the library, server, client and benchmarks.
build: deps
	@cmake -S . -B $(BUILD_RELEASE) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DSPECINV_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_RELEASE) -j$(JOBS)

# The main job: server up, client inverts a mel spectrogram of the built-in
# demo signal, writes out/demo.wav and out/demo.png, server down.
run: build
	@scripts/run-demo.sh $(BUILD_RELEASE)

# All tests, built with AddressSanitizer + UndefinedBehaviorSanitizer. The
# multi-process fault test (label "fault") runs on the Release build in
# `make fault-test` instead.
test: deps
	@cmake -S . -B $(BUILD_TEST) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPECINV_SANITIZE=ON \
	  -DSPECINV_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_TEST) -j$(JOBS)
	@cd $(BUILD_TEST) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS) --timeout 600 -LE fault

bench: build
	@$(BUILD_RELEASE)/bench/specinv_bench --benchmark_min_time=0.5

# Mel-inversion quality table (a few minutes): builds a small corpus from
# Debian-packaged speech and instrument sources, then compares librosa's
# mel_to_audio, specinv's methods and the true-magnitude ceiling
# (bench/quality/); specinv jobs run 2 threads, as the server gives a lone
# job on the 2-core machine (CPU and wall-time ratios are both printed).
QUALITY_METHODS ?= fgla,pghi_fgla,refine,joint,stream
quality: build
	@bench/quality/make_corpus.sh out/quality/corpus
	@/usr/bin/python3 bench/quality/quality_table.py --bench $(BUILD_RELEASE)/bench/specinv-invert-bench \
	  --corpus out/quality/corpus --methods $(QUALITY_METHODS) --threads 2

# Linear-magnitude table, clip by clip: refine (100 STFT/iSTFT pairs) on each
# clip's true magnitude against librosa griffinlim (100 iterations, mean of 3
# random-phase seeds, cached in out/quality/griffinlim); BEFORE=an older
# specinv-invert-bench adds its column.
quality-linear: build
	@bench/quality/make_corpus.sh out/quality/corpus
	@/usr/bin/python3 bench/quality/linear_table.py --bench $(BUILD_RELEASE)/bench/specinv-invert-bench \
	  --corpus out/quality/corpus $(if $(BEFORE),--before $(BEFORE))

fault-test: build
	@tests/fault/fault_test.sh $(BUILD_RELEASE)

# The image, compose (3 replicas behind nginx, one killed and one stopped
# under load) and the Kubernetes Deployment on podman; needs root.
deploy-test:
	@deploy/test-deploy.sh

fuzz:
	@scripts/install-deps.sh fuzz
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPECINV_FUZZ=ON \
	  -DSPECINV_BUILD_TESTS=OFF -DSPECINV_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_FUZZ) -j$(JOBS)
	@scripts/run-fuzz.sh $(BUILD_FUZZ)

clean:
	rm -rf build out
