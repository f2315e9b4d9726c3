#!/usr/bin/env python3
"""The paper's question on the cluster simulator: which method trains fastest at which scale.

Two studies, each a set of `distsgd simulate` runs:

  accuracy   time to a target test accuracy against nodes, training for real in the simulator
             (cnn on Fashion-MNIST), every method, per network, with and without stragglers;
  throughput samples/s against nodes (--timing-only: no gradients), resnet18 and resnet50 shapes,
             every method, per network, with and without stragglers.

  scale_study.py --out runs/scale [--study accuracy|throughput|both] [--quick]

Writes OUT/<study>.csv (one row per run, with the command), OUT/<study>.md (tables) and, with
Debian's matplotlib (/usr/bin/python3), OUT/<study>_*.png. Every run's summary.json stays under
OUT/runs/. Standard library only (the figures are optional). Exit status 1 if a run failed for
another reason than the method diverging (which is a result, reported as such).
"""
import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ["allreduce", "asgd", "easgd", "gossip-pull", "gossip-push", "local-sgd", "gossip-pga"]

# Hyperparameters: one setting per method at every node count, stated in the report. ASGD with
# momentum diverges past a few workers (its staleness acts as momentum of its own: Mitliagkas et
# al. 2016) and, at 127 workers, even at lr 0.05 without it (measured), so it trains without
# momentum at lr 0.4 / workers (0.05 at 8 workers); the others keep the engine's defaults.
METHOD_FLAGS = {
    "allreduce": [],
    "asgd": ["--momentum", "0", "--lr", "0.4", "--lr-scaling", "inverse"],
    "easgd": [],
    "gossip-pull": [],
    "gossip-push": [],
    # The hybrids at the settings of their papers' headline runs: local SGD averaging every 8
    # steps, Gossip-PGA (pull) averaging globally every 8 steps.
    # (No checkpoints, as `distsgd compare` runs: local SGD's checkpoint is an average of its own.)
    "local-sgd": ["--local-steps", "8", "--checkpoint-every", "0"],
    "gossip-pga": ["--global-every", "8"],
}

# Compute per step (batch 32 per worker). cnn: this machine's measured step (single thread),
# a cluster of CPU nodes like this one. resnet18 / resnet50: an assumed accelerator's step at
# batch 32 in fp32 (V100-class: about 1200 and 360 images/s), stated as an assumption.
COMPUTE_MS = {"cnn": 12.0, "resnet18": 27.0, "resnet50": 89.0}

STRAGGLERS = "0.05:100"
# A parameter server applying an update: nanoseconds per float of its shard (assumed: SGD with
# momentum streams about 20 bytes per float through a server node's memory at ~20 GB/s).
SERVER_UPDATE_NS = 1.0
# The throughput study also runs the parameter-server methods with one server per 8 nodes
# ("asgd:8"), the sharding a large job would use, beside the default single server.
SHARDED = ["asgd:8", "easgd:8"]  # each step of each worker is delayed 100 ms with probability 5%


def run(distsgd, args, out_dir, limit_s, fresh):
    """One simulated run; a run whose summary (for the same command) is already in `out_dir` is
    reused unless `fresh`, so an interrupted study continues where it stopped."""
    os.makedirs(out_dir, exist_ok=True)
    command = [distsgd, "simulate", *args, "--quiet", "--log-dir", out_dir]
    printed = " ".join(shlex.quote(c) for c in command)
    summary_path = os.path.join(out_dir, "summary.json")
    command_path = os.path.join(out_dir, "command.txt")
    if not fresh and os.path.exists(summary_path) and os.path.exists(command_path):
        with open(command_path) as f:
            if f.read() == printed:
                with open(summary_path) as g:
                    return json.load(g), 0, "reused", 0.0, printed
    for stale in (summary_path, command_path):
        if os.path.exists(stale):
            os.remove(stale)
    started = time.monotonic()
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=limit_s, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        output, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired:
        output, code = f"timed out after {limit_s} s", 124
    except OSError as error:  # the binary being rebuilt, for example
        output, code = f"could not start {distsgd}: {error}", 126
    seconds = time.monotonic() - started
    summary = None
    if code == 0 and os.path.exists(summary_path):
        with open(summary_path) as f:
            summary = json.load(f)
        with open(command_path, "w") as f:
            f.write(printed)
    last = [line for line in output.splitlines() if line.strip()]
    return summary, code, (last[-1] if last else ""), seconds, printed


def accuracy_configs(quick):
    nodes = [8, 32] if quick else [8, 32, 128]
    networks = ["10gbe"] if quick else ["10gbe", "100g-ib"]
    for network in networks:
        for straggle in ([False] if quick or network != "10gbe" else [False, True]):
            for n in nodes:
                for method in METHODS:
                    yield {"network": network, "stragglers": straggle, "nodes": n, "algo": method}


def throughput_configs(quick):
    nodes = [8, 64] if quick else [8, 16, 32, 64, 128, 256, 512, 1024]
    models = ["resnet18"] if quick else ["resnet18", "resnet50"]
    for model in models:
        for network in ["10gbe", "100g-ib"]:
            for straggle in [False, True]:
                for n in nodes:
                    # The sharded variants stop at 256 nodes: beyond, their end-of-run
                    # heartbeats between hundreds of servers and workers cost minutes of
                    # simulator time per run.
                    for method in METHODS + (SHARDED if n <= 256 else []):
                        yield {"model": model, "network": network, "stragglers": straggle,
                               "nodes": n, "algo": method}


def workers(algo, nodes):
    return nodes - 1 if algo in ("asgd", "easgd") else nodes


def accuracy_args(c, quick, target):
    w = workers(c["algo"], c["nodes"])
    steps_per_epoch = 60000 // w // 32
    epochs = 1 if quick else 2
    evals_per_epoch = 6
    args = ["--algo", c["algo"], "--nodes", str(c["nodes"]), "--model", "cnn", "--dataset",
            "fashion-mnist", "--batch-size", "32", "--epochs", str(epochs), "--seed", "1",
            "--eval-every", str(max(1, steps_per_epoch // evals_per_epoch)), "--eval-samples", "2000",
            "--target-accuracy", str(target), "--stop-at-target", "--network", c["network"],
            "--compute-ms", str(COMPUTE_MS["cnn"]), *METHOD_FLAGS[c["algo"]]]
    if c["stragglers"]:
        args += ["--straggler-random", STRAGGLERS]
    return args


def throughput_args(c, quick):
    model = c["model"]
    algo, _, per = c["algo"].partition(":")
    servers = ["--servers", str(max(1, c["nodes"] // int(per)))] if per else []
    args = ["--algo", algo, *servers, "--nodes", str(c["nodes"]), "--model", model, "--dataset", "synthetic",
            "--synthetic-shape", "imagenet" if model == "resnet50" else "cifar", "--batch-size", "32",
            # --max-steps bounds the run (the epochs would end it first at large N).
            "--timing-only", "--epochs", "1000000", "--max-steps", "10" if quick else "30",
            "--network", c["network"],
            "--compute-ms", str(COMPUTE_MS[model]), "--server-update-ns", str(SERVER_UPDATE_NS),
            *METHOD_FLAGS[algo]]
    if c["stragglers"]:
        args += ["--straggler-random", STRAGGLERS]
    return args


def fmt(value, spec):
    return "-" if value is None or value == "" else format(float(value), spec)


def write_table(path, title, rows, keys, value, note, methods=METHODS):
    """A markdown table: one per (keys), methods as columns, nodes as rows."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    lines = [f"# {title}", "", note, ""]
    for group, members in groups.items():
        lines += ["## " + ", ".join(f"{k} {v}" for k, v in zip(keys, group)), ""]
        nodes = sorted({int(r["nodes"]) for r in members})
        lines += ["| nodes | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
        for n in nodes:
            cells = []
            for method in methods:
                match = [r for r in members if int(r["nodes"]) == n and r["algo"] == method]
                cells.append(value(match[0]) if match else "")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def draw(out, study, rows, keys, value_key, ylabel, methods=METHODS):
    """Figures with Debian's matplotlib, when this is that Python; skipped otherwise."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no matplotlib in {sys.executable}: figures skipped; run with /usr/bin/python3)")
        return
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    for group, members in groups.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for method in methods:
            points = sorted((int(r["nodes"]), float(r[value_key])) for r in members
                            if r["algo"] == method and r[value_key] not in ("", None))
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=method)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel(ylabel)
        ax.set_title("simulated: " + ", ".join(f"{k} {v}" for k, v in zip(keys, group)))
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        name = f"{study}_" + "_".join(str(v) for v in group).replace(" ", "") + ".png"
        fig.savefig(os.path.join(out, name), dpi=100)
        plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/scale")
    parser.add_argument("--study", choices=["accuracy", "throughput", "both"], default="both")
    parser.add_argument("--distsgd", default=os.path.join(HERE, "..", "build", "distsgd"))
    parser.add_argument("--target", type=float, default=0.75)
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (each uses one core)")
    parser.add_argument("--quick", action="store_true", help="a few configurations, for a smoke test")
    parser.add_argument("--fresh", action="store_true", help="rerun runs whose results are already in --out")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    failed = 0
    studies = ["accuracy", "throughput"] if args.study == "both" else [args.study]
    for study in studies:
        configs = list(accuracy_configs(args.quick) if study == "accuracy" else throughput_configs(args.quick))
        rows = []
        pending = list(configs)
        print(f"{study}: {len(configs)} simulated runs")
        from concurrent.futures import ThreadPoolExecutor

        def one(c):
            name = "-".join(str(v) for v in c.values()).replace(":", "")
            flags = accuracy_args(c, args.quick, args.target) if study == "accuracy" else throughput_args(c, args.quick)
            return c, run(args.distsgd, flags, os.path.join(args.out, "runs", study, name), 3600, args.fresh)

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for c, (summary, code, last, seconds, command) in pool.map(one, pending):
                row = dict(c)
                row["stragglers"] = STRAGGLERS if c["stragglers"] else "none"
                diverged = code != 0 and "loss is" in last
                row["status"] = "ok" if summary else ("diverged" if diverged else f"failed (exit {code}): {last}")
                failed += 0 if summary or diverged else 1
                s = summary or {}
                row.update({
                    "samples_per_s": s.get("samples_per_s"),
                    "step_time_median_s": s.get("step_time_median_s"),
                    "time_to_target_s": s.get("time_to_target_s"),
                    "epochs_to_target": s.get("epochs_to_target"),
                    "final_test_accuracy": s.get("final_test_accuracy"),
                    "staleness_mean": s.get("staleness_mean"),
                    "consensus_distance": s.get("consensus_distance"),
                    "mean_comm_s": (s.get("breakdown") or {}).get("mean_comm_s"),
                    "mean_wait_s": (s.get("breakdown") or {}).get("mean_wait_s"),
                    "mean_compute_s": (s.get("breakdown") or {}).get("mean_compute_s"),
                    "simulator_s": round(seconds, 1),
                    "command": command,
                })
                rows.append(row)
                print(f"  {row['algo']:<11} n={row['nodes']:<5} {row.get('model', 'cnn'):<8} {row['network']:<8} "
                      f"stragglers {row['stragglers']:<8} {row['status']:<9} "
                      f"{fmt(row['samples_per_s'], '.0f'):>9} samples/s  to target {fmt(row['time_to_target_s'], '.1f')} s"
                      f"  ({seconds:.0f} s)", flush=True)
        with open(os.path.join(args.out, f"{study}.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(rows)
        if study == "accuracy":
            write_table(os.path.join(args.out, "accuracy.md"),
                        f"Simulated time to {100 * args.target:.0f}% test accuracy (virtual s)", rows,
                        ["network", "stragglers"],
                        lambda r: (fmt(r["time_to_target_s"], ".1f") + f" ({fmt(r['epochs_to_target'], '.2f')} ep)")
                        if r["time_to_target_s"] not in (None, "") else
                        ("diverged" if r["status"] == "diverged" else f"not reached ({fmt(r['final_test_accuracy'], '.3f')})"),
                        "cnn on Fashion-MNIST, batch 32 per worker, compute "
                        f"{COMPUTE_MS['cnn']} ms per step; method flags {METHOD_FLAGS}.")
            draw(args.out, study, rows, ["network", "stragglers"], "time_to_target_s", "virtual s to target")
        else:
            write_table(os.path.join(args.out, "throughput.md"), "Simulated throughput (samples/s, all workers)",
                        rows, ["model", "network", "stragglers"], lambda r: fmt(r["samples_per_s"], ".0f"),
                        f"--timing-only, batch 32 per worker, compute per step {COMPUTE_MS} ms (assumed accelerator), "
                        f"server update {SERVER_UPDATE_NS} ns per float; asgd:8 and easgd:8 have one server per 8 nodes, "
                        "asgd and easgd one server.", METHODS + SHARDED)
            draw(args.out, study, rows, ["model", "network", "stragglers"], "samples_per_s", "samples/s",
                 METHODS + SHARDED)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
