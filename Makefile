# The README's two commands: `make demo` and `make test`. Each installs what is
# missing (scripts/install-deps.sh), builds, and runs.
BUILD ?= build
JOBS ?= 2
MPIRUN = mpirun --allow-run-as-root --oversubscribe --bind-to none
export OPENBLAS_NUM_THREADS = 1

.PHONY: deps configure build demo test bench validate clean

deps:
	@scripts/install-deps.sh

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

configure: $(BUILD)/Makefile

build: deps configure
	cmake --build $(BUILD) -j$(JOBS)

# The comparison in small: all seven methods on 4 ranks, cnn on Fashion-MNIST,
# 1 epoch, each with and without a 4x straggler (about 8 minutes on 2 cores).
demo: build
	$(BUILD)/distsgd compare --nodes 4 \
	  --algos allreduce,asgd,easgd,gossip-pull,gossip-push,local-sgd,gossip-pga \
	  --model cnn --dataset fashion-mnist --epochs 1 --batch-size 32 \
	  --seed 1 --target-accuracy 0.85 --straggler 1:4 --out runs/demo

# Unit tests, real mpirun jobs, the fault matrix (tests/faults), then a short
# fuzz run of the file readers (60 s per target; docs/fuzzing.md).
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	scripts/fuzz.sh 60

bench: build
	$(MPIRUN) -np 2 $(BUILD)/bench/bench_step_time
	$(BUILD)/bench/bench_ps_throughput
	$(BUILD)/bench/bench_gossip_traffic

# The simulator's validation (docs/simulator.md, "Validation"): real runs
# against `distsgd simulate`, side by side, every row in runs/validation/
# validation.csv. The throttled-network part needs root (network namespaces).
validate: deps configure
	cmake --build $(BUILD) -j$(JOBS) --target distsgd
	python3 bench/validate_simulator.py --distsgd $(BUILD)/distsgd --out runs/validation

clean:
	rm -rf $(BUILD)
