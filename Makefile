# OpenANE: two commands do everything on a fresh Debian machine.
#   make run   installs what is missing, builds, runs the main job
#   make test  installs what is missing, builds, runs every test
# Other targets: build, example (ane info and an example MIL program), test-asan (ASan+UBSan
# build and suite), test-fuzz (libFuzzer, clang), bench, portable (build without -march=native),
# clean.

BUILD       ?= build
JOBS        ?= $(shell nproc)
CMAKE_FLAGS ?=
# Debian packages the build and tests need.
DEPS := cmake ninja-build g++ clang libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev \
        python3-numpy python3-pytest pkgconf libsentencepiece-dev fortunes libplplot-dev plplot-driver-cairo \
        libblis-pthread-dev libopenblas-dev libopenblas0-openmp libblis4-openmp libdnnl-dev

.PHONY: all deps build run example test test-asan test-fuzz bench portable clean

all: build

deps:
	@scripts/install-deps.sh $(DEPS)

# Configures once (cmake re-runs itself when CMakeLists change), then builds incrementally.
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: a small model trained from scratch on the fortunes corpus (one to two minutes
# on two cores), its loss plot, the model exported for llama2.c and a generated sample, all in
# $(DEMO_DIR)/ (see scripts/demo.sh).
DEMO_DIR ?= demo
run: build
	ANE=$(BUILD)/src/tools/ane scripts/demo.sh $(DEMO_DIR)

# What the machine offers, then an example MIL program checked and run.
example: build
	$(BUILD)/src/tools/ane info
	$(BUILD)/src/tools/ane mil check examples/mil/rmsnorm.mil
	$(BUILD)/src/tools/ane mil run examples/mil/rmsnorm.mil --in examples/mil/rmsnorm_x.npy

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	$(MAKE) BUILD=build-asan CMAKE_FLAGS="-DANE_SANITIZE=ON -DANE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Sanitize" test

test-fuzz: deps
	$(MAKE) BUILD=build-fuzz CMAKE_FLAGS="-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DANE_FUZZ=ON -DANE_BUILD_TESTS=OFF -DANE_BUILD_BENCH=OFF" build-fuzz/build.ninja
	cmake --build build-fuzz --target fuzzers -j $(JOBS)
	scripts/run-fuzzers.sh build-fuzz

bench: build
	scripts/run-benchmarks.sh $(BUILD)

portable:
	$(MAKE) BUILD=build-portable CMAKE_FLAGS="-DANE_NATIVE=OFF" test

clean:
	rm -rf build build-asan build-fuzz build-portable
