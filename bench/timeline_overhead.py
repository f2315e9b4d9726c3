#!/usr/bin/env python3
"""What --timeline costs a training run: the same short run with and without it, alternated,
several times; prints the median step time of each (summary.json's step_time_median_s), their
ratio, the ratio of the fastest runs, and the size of the trace.

  timeline_overhead.py [--distsgd build/distsgd] [--ranks 2] [--steps 300] [--repeat 4]
                       [--model cnn] [--algo allreduce] [--out DIR]

Run it on a quiet machine: it measures time. Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(args, log_dir, timeline):
    command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
               "-np", str(args.ranks), args.distsgd, "train", "--algo", args.algo, "--model", args.model,
               "--batch-size", str(args.batch_size), "--max-steps", str(args.steps), "--epochs", "1",
               "--checkpoint-every", "0", "--eval-samples", "200", "--seed", "1", "--quiet",
               "--log-dir", log_dir]
    if timeline:
        command += ["--timeline", timeline]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=1800, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}")
    with open(os.path.join(log_dir, "summary.json")) as f:
        return json.load(f)["step_time_median_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distsgd", default=os.path.join(HERE, "..", "build", "distsgd"))
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--algo", default="allreduce")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default=None, help="where the runs go (default: a temporary directory)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="timeline-overhead-")
    off, on = [], []
    trace = os.path.join(out, "trace.json")
    for i in range(args.repeat):
        # Alternate which goes first, so that a drift of the machine's speed falls on both.
        for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
            log_dir = os.path.join(out, f"{mode}{i}")
            seconds = run(args, log_dir, trace if mode == "on" else None)
            (on if mode == "on" else off).append(seconds)
            print(f"run {i} timeline {mode:3}: step time median {seconds * 1e3:.3f} ms", flush=True)
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    complete = sum(1 for e in events if e["ph"] == "X")
    off_median, on_median = statistics.median(off), statistics.median(on)
    print(f"{args.algo} {args.model} batch {args.batch_size}, {args.ranks} ranks, {args.steps} steps, "
          f"{args.repeat} runs each")
    print(f"median step time without --timeline: {off_median * 1e3:.3f} ms  (runs: "
          + ", ".join(f"{s * 1e3:.3f}" for s in off) + ")")
    print(f"median step time with --timeline:    {on_median * 1e3:.3f} ms  (runs: "
          + ", ".join(f"{s * 1e3:.3f}" for s in on) + ")")
    print(f"ratio on/off: {on_median / off_median:.4f} ({(on_median / off_median - 1) * 100:+.2f} %)")
    # On a shared machine the fastest run is the one least disturbed by others.
    print(f"fastest runs: {min(off) * 1e3:.3f} ms without, {min(on) * 1e3:.3f} ms with: "
          f"ratio {min(on) / min(off):.4f}")
    print(f"last trace: {complete} events, {os.path.getsize(trace) / 1e6:.1f} MB ({trace})")


if __name__ == "__main__":
    main()
