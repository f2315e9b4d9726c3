#!/usr/bin/python3
"""Figures and report.md of a `distsgd compare` directory.

Reads <dir>/runs.json, <dir>/results.csv and each run's metrics.rank0.jsonl;
writes into <dir>:
  error_vs_time_n<N>.png, error_vs_epochs_n<N>.png  test error per method, one figure per node count
  throughput_vs_nodes.png                            samples/s against nodes
  time_to_target_vs_nodes.png                        training time to the target accuracy
  straggler_effect.png                               samples/s with and without the straggler
  report.md                                          the command, the table and the figures
  report.html                                        the same, self-contained (figures inlined),
                                                     with the configuration of the runs
With --repeat R the curves show the median over the repeats with the range
as a band, and the figures by nodes the median with the range as error bars.
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
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

import report_html  # noqa: E402  (beside this file)

METHOD_ORDER = ["allreduce", "asgd", "easgd", "gossip-pull", "gossip-push", "local-sgd", "gossip-pga"]


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
                        and not r["straggler"] and r["status"] == "ok"]
                series = [points for points in (evaluations(directory, run["name"]) for run in runs) if points]
                if series:
                    draw_spread(ax, series, index, method)
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


def draw_spread(ax, series, index, label):
    """One method's curve: the median over its repeats at each evaluation, with
    the range (min to max) as a band when there are several."""
    length = min(len(points) for points in series)
    xs = [statistics.median(points[k][index] for points in series) for k in range(length)]
    errors = [[100 * points[k][2] for points in series] for k in range(length)]
    line, = ax.plot(xs, [statistics.median(e) for e in errors], marker="o", markersize=3,
                    label=label if len(series) == 1 else f"{label} (median of {len(series)})")
    if len(series) > 1:
        ax.fill_between(xs, [min(e) for e in errors], [max(e) for e in errors], color=line.get_color(),
                        alpha=0.2, linewidth=0)


def nodes_axis(ax, nodes):
    """Node counts on a log2 axis, ticked at the counts run, written as integers."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(nodes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(n) for n in nodes])
    if len(nodes) == 1:
        ax.set_xlim(nodes[0] / 1.5, nodes[0] * 1.5)


def spread_by(rows, key, value):
    """{key: (median, min, max)} of `value` over the ok rows."""
    groups = {}
    for row in rows:
        if row["status"] == "ok" and row[value] != "":
            groups.setdefault(key(row), []).append(float(row[value]))
    return {k: (statistics.median(v), min(v), max(v)) for k, v in groups.items()}


def by_nodes(rows, value, ylabel, title, name, out, straggler=False):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for method in methods_in(rows):
        spread = spread_by([r for r in rows if r["algo"] == method and bool(r["straggler"]) == straggler],
                           lambda r: int(r["nodes"]), value)
        if spread:
            xs = sorted(spread)
            medians = [spread[x][0] for x in xs]
            ax.errorbar(xs, medians, yerr=[[m - spread[x][1] for m, x in zip(medians, xs)],
                                           [spread[x][2] - m for m, x in zip(medians, xs)]],
                        marker="o", capsize=3, label=method)
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xlabel("nodes (MPI ranks)")
    nodes_axis(ax, sorted({int(r["nodes"]) for r in rows if r["status"] == "ok"}))
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
        lines.append("| " + " | ".join(report_html.readable(row[c]) for c in columns) + " |")
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
    report_html.write(directory, manifest, rows, figures, config)


if __name__ == "__main__":
    main()
