#!/usr/bin/python3
"""Figures and report.md of a `distsgd compare` directory.

Reads <dir>/runs.json, <dir>/results.csv and each run's metrics.rank0.jsonl;
writes into <dir>:
  error_vs_time_n<N>.png, error_vs_epochs_n<N>.png  test error per method, one figure per node count
  throughput_vs_nodes.png                            samples/s against nodes
  time_to_target_vs_nodes.png                        training time to the target accuracy
  straggler_effect.png                               samples/s with and without the straggler
  report.md                                          the command, the table and the figures
Run with Debian's Python (/usr/bin/python3), which has matplotlib.
"""
import csv
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

METHOD_ORDER = ["allreduce", "asgd", "easgd", "gossip-pull", "gossip-push"]


def load(directory):
    with open(os.path.join(directory, "runs.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(directory, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    return manifest, rows


def evaluations(directory, name):
    # A real run's rank 0 metrics, or a simulated run's (virtual times).
    points = []
    path = os.path.join(directory, "runs", name, "metrics.rank0.jsonl")
    if not os.path.exists(path):
        path = os.path.join(directory, "runs", name, "metrics.sim.jsonl")
    if not os.path.exists(path):
        return points
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if record.get("type") == "eval":
                points.append((record["train_time_s"], record["epochs_done"], 1.0 - record["test_accuracy"]))
    return points


def methods_in(rows):
    present = {row["algo"] for row in rows}
    return [m for m in METHOD_ORDER if m in present] + sorted(present - set(METHOD_ORDER))


def config_of(directory, manifest):
    for run in manifest["runs"]:
        path = os.path.join(directory, "runs", run["name"], "summary.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)["config"]
    return {}


def median_by(rows, key, value):
    groups = {}
    for row in rows:
        if row["status"] == "ok" and row[value] != "":
            groups.setdefault(key(row), []).append(float(row[value]))
    return {k: statistics.median(v) for k, v in groups.items()}


def curves(directory, manifest, rows, config, out):
    model, dataset = config.get("model", "?"), config.get("dataset", "?")
    figures = []
    for nodes in sorted({int(r["nodes"]) for r in rows}):
        for axis, index, label, words in (("time", 0, "training time (s)", "training time"),
                                          ("epochs", 1, "epochs", "epochs")):
            fig, ax = plt.subplots(figsize=(7, 4.5))
            drawn = False
            for method in methods_in(rows):
                runs = [r for r in manifest["runs"] if r["algo"] == method and r["nodes"] == nodes
                        and r["repeat"] == 1 and not r["straggler"] and r["status"] == "ok"]
                for run in runs:
                    points = evaluations(directory, run["name"])
                    if points:
                        ax.plot([p[index] for p in points], [100 * p[2] for p in points], marker="o", label=method)
                        drawn = True
            if not drawn:
                plt.close(fig)
                continue
            ax.set_xlabel(label)
            ax.set_ylabel("test error (%)")
            ax.set_title(f"{model} on {dataset}, {nodes} node(s): test error against {words}")
            ax.grid(True, alpha=0.3)
            ax.legend()
            name = f"error_vs_{axis}_n{nodes}.png"
            fig.tight_layout()
            fig.savefig(os.path.join(out, name), dpi=100)
            plt.close(fig)
            figures.append((name, f"Test error against {label}, {nodes} node(s)"))
    return figures


def by_nodes(rows, value, ylabel, title, name, out, straggler=False):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for method in methods_in(rows):
        medians = median_by([r for r in rows if r["algo"] == method and bool(r["straggler"]) == straggler],
                            lambda r: int(r["nodes"]), value)
        if medians:
            xs = sorted(medians)
            ax.plot(xs, [medians[x] for x in xs], marker="o", label=method)
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xlabel("nodes (MPI ranks)")
    nodes = sorted({int(r["nodes"]) for r in rows})
    if nodes and nodes[-1] >= 8 * nodes[0]:
        ax.set_xscale("log", base=2)
    values = [float(r[value]) for r in rows if r["status"] == "ok" and r[value] not in ("", "0")]
    if values and max(values) >= 100 * min(values):
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return [(name, title)]


def straggler_effect(rows, config, out):
    stragglers = {r["straggler"] for r in rows if r["straggler"]}
    if not stragglers:
        return []
    methods = methods_in(rows)
    nodes = max(int(r["nodes"]) for r in rows if r["straggler"] and r["status"] == "ok") if any(
        r["straggler"] and r["status"] == "ok" for r in rows) else None
    if nodes is None:
        return []
    without = median_by([r for r in rows if not r["straggler"] and int(r["nodes"]) == nodes], lambda r: r["algo"],
                        "samples_per_s")
    with_ = median_by([r for r in rows if r["straggler"] and int(r["nodes"]) == nodes], lambda r: r["algo"],
                      "samples_per_s")
    shown = [m for m in methods if m in without and m in with_]
    if not shown:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = range(len(shown))
    ax.bar([x - 0.2 for x in xs], [without[m] for m in shown], width=0.4, label="no straggler")
    ax.bar([x + 0.2 for x in xs], [with_[m] for m in shown], width=0.4,
           label=f"straggler {sorted(stragglers)[0]} (rank:slowdown)")
    for x, m in zip(xs, shown):
        ax.annotate(f"{100 * with_[m] / without[m]:.0f}%", (x + 0.2, with_[m]), ha="center", va="bottom")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(shown)
    ax.set_ylabel("samples/s (all workers)")
    title = f"{config.get('model', '?')} on {config.get('dataset', '?')}, {nodes} nodes: effect of a straggler"
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "straggler_effect.png"), dpi=100)
    plt.close(fig)
    return [("straggler_effect.png", title)]


def readable(cell):
    """A CSV cell for the eye: floats to 4 significant digits (the CSV keeps them all)."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    if value.is_integer() and "." not in cell and "e" not in cell:
        return cell
    return f"{value:.4g}"


def report(directory, manifest, rows, figures):
    columns = list(rows[0].keys()) if rows else []
    simulated = manifest.get("simulated")
    lines = ["# distsgd comparison" + (" (simulated)" if simulated else ""), "", "Produced by:", "",
             "    " + manifest.get("command", "?"), "",
             *(["Every run is simulated (`distsgd simulate`): times are virtual, the seconds the "
                "modelled cluster would take; simulator flags: `" + (manifest.get("sim_flags") or "none") + "`.",
                ""] if simulated else []),
             f"Launcher: `{manifest.get('launcher', '?')}`. Per-run logs: `runs/<name>/run.log`; "
             "`distsgd report DIR` redraws this report from the saved runs.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(readable(row[c]) for c in columns) + " |")
    lines.append("")
    for name, title in figures:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    with open(os.path.join(directory, "report.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: plot_compare.py DIR")
    directory = sys.argv[1]
    manifest, rows = load(directory)
    config = config_of(directory, manifest)
    where = f"{config.get('model', '?')} on {config.get('dataset', '?')}"
    if manifest.get("simulated"):
        # Simulated runs: virtual times on the simulator's network model.
        where += " (simulated)" + (f"\n{manifest['sim_flags']}" if manifest.get("sim_flags") else "")
    figures = curves(directory, manifest, rows, config, directory)
    figures += by_nodes(rows, "samples_per_s", "samples/s (all workers)", f"{where}: throughput against nodes",
                        "throughput_vs_nodes.png", directory)
    target = config.get("target_accuracy")
    if target:
        figures += by_nodes(rows, "time_to_target_s", f"training time to {100 * target:.0f}% test accuracy (s)",
                            f"{where}: time to {100 * target:.0f}% accuracy against nodes",
                            "time_to_target_vs_nodes.png", directory)
    figures += straggler_effect(rows, config, directory)
    report(directory, manifest, rows, figures)


if __name__ == "__main__":
    main()
