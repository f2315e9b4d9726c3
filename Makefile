# The README's two commands: `make demo` and `make test`. Each installs what is
# missing (scripts/install-deps.sh), builds, and runs.
BUILD ?= build
JOBS ?= 2
RANKS ?= 2
MPIRUN = mpirun --allow-run-as-root --oversubscribe --bind-to none
export OPENBLAS_NUM_THREADS = 1

.PHONY: deps configure build demo test bench clean

deps:
	@scripts/install-deps.sh

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

configure: $(BUILD)/Makefile

build: deps configure
	cmake --build $(BUILD) -j$(JOBS)

# Synchronous all-reduce SGD, cnn on Fashion-MNIST, 2 ranks, 2 epochs.
demo: build
	$(MPIRUN) -np $(RANKS) $(BUILD)/distsgd train --algo allreduce --model cnn \
	  --dataset fashion-mnist --epochs 2 --batch-size 64 --lr 0.05 --momentum 0.9 \
	  --lr-schedule cosine --seed 1 \
	  --target-accuracy 0.88 --log-dir runs/demo
	@echo "Results: runs/demo/summary.json, per-rank metrics runs/demo/metrics.rank*.jsonl," \
	  "checkpoints runs/demo/*.ckpt"

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	$(MPIRUN) -np 2 $(BUILD)/bench/bench_step_time
	$(BUILD)/bench/bench_ps_throughput
	$(BUILD)/bench/bench_gossip_traffic

clean:
	rm -rf $(BUILD)
