#!/usr/bin/env python3
"""What the simulator itself costs: wall time for one epoch of training at N nodes against one
epoch of `distsgd train` on one rank (the same samples), seconds per event, and memory.

  simulator_cost.py [--distsgd build/distsgd] [--nodes 8,64] [--model cnn] [--out DIR]

Prints a table and writes OUT/simulator_cost.csv. Run it on a quiet machine: it measures wall
time. Standard library only.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FLAGS = ["--batch-size", "32", "--epochs", "1", "--seed", "1", "--quiet", "--checkpoint-every", "0",
         "--eval-samples", "1000"]


def timed(command, limit_s=1800):
    """Wall seconds and peak resident memory (MiB) of one child command (GNU time's %M)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=limit_s,
                              env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {proc.stdout[-500:]}")
        return seconds, int(rss.read().split()[-1]) / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distsgd", default=os.path.join(HERE, "..", "build", "distsgd"))
    parser.add_argument("--nodes", default="8,64")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--out", default="runs/simulator_cost")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    base_dir = os.path.join(args.out, "train-1rank")
    train_s, train_mb = timed([args.distsgd, "train", "--algo", "allreduce", "--model", args.model, *FLAGS,
                               "--log-dir", base_dir])
    with open(os.path.join(base_dir, "summary.json")) as f:
        train_summary = json.load(f)
    one_rank_s = train_summary["train_time_s"]
    rows.append({"run": "train, 1 rank", "nodes": 1, "wall_s": round(train_s, 2), "train_s": round(one_rank_s, 2),
                 "ratio": 1.0, "events": "", "us_per_event": "", "peak_mib": round(train_mb)})
    for algo in ["allreduce", "asgd", "gossip-pull", "gossip-push"]:
        for n in [int(x) for x in args.nodes.split(",")]:
            log = os.path.join(args.out, f"sim-{algo}-{n}")
            # ASGD diverges with momentum past a few workers: the scale study's setting.
            extra = ["--momentum", "0", "--lr", "0.4", "--lr-scaling", "inverse"] if algo == "asgd" else []
            wall, mb = timed([args.distsgd, "simulate", "--algo", algo, "--nodes", str(n), "--model", args.model,
                              "--network", "10gbe", "--compute-ms", "10", *FLAGS, *extra, "--log-dir", log])
            with open(os.path.join(log, "summary.json")) as f:
                s = json.load(f)
            # The same samples as the 1-rank epoch: a worker count that divides the set evenly
            # trains the same number; otherwise scale by what it trained.
            samples = s["samples_per_s"] * s["train_time_s"]
            per_sample = wall / samples
            ratio = per_sample / (train_s / (train_summary["steps"] * 32))
            rows.append({"run": f"simulate {algo}", "nodes": n, "wall_s": round(wall, 2),
                         "train_s": round(s["simulator"]["wall_s"], 2), "ratio": round(ratio, 3),
                         "events": s["simulator"]["events"],
                         "us_per_event": round(1e6 * s["simulator"]["s_per_event"], 1), "peak_mib": round(mb)})
            print(f"{algo} n={n}: {wall:.1f} s wall, {ratio:.3f} x the 1-rank epoch per sample", flush=True)
    print(f"\n{'run':<22} {'nodes':>5} {'wall s':>8} {'ratio':>6} {'events':>8} {'us/event':>9} {'peak MiB':>9}")
    for r in rows:
        print(f"{r['run']:<22} {r['nodes']:>5} {r['wall_s']:>8} {r['ratio']:>6} {r['events']!s:>8} "
              f"{r['us_per_event']!s:>9} {r['peak_mib']:>9}")
    with open(os.path.join(args.out, "simulator_cost.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    print("\nratio: the simulator's wall time per trained sample over the 1-rank epoch's (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
