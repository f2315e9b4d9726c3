#!/usr/bin/python3
"""report.html, rendered by headless Chromium (ctest cli.report_html).

Makes a real comparison directory (`distsgd compare --simulate`: two methods,
two node counts, two repeats, mlp on Fashion-MNIST, real gradients on the
virtual clock), then checks:
  - report.html is self-contained: every figure inlined as a PNG data URI,
    nothing fetched from elsewhere;
  - in Chromium (--dump-dom) the page's own check reports the table's rows
    (one per planned run) and every figure decoded;
  - a screenshot shows the table (its header colour) and the figures
    (matplotlib's first line colour), not a blank page;
  - the curves have at least 10 evaluations (compare's default cadence) and
    the node axis is ticked at the node counts.
Exits 1 naming the first check that failed. Run with Debian's Python
(/usr/bin/python3: it has Pillow).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from PIL import Image


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def chromium(*args, timeout=120):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        fail("chromium is not installed (scripts/install-deps.sh installs it)")
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    try:
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def near(pixel, colour, tolerance=6):
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour))


def check_nodes_axis():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    import matplotlib.pyplot as plt
    import plot_compare
    fig, ax = plt.subplots()
    ax.plot([2, 4, 8, 16], [1, 2, 3, 4])
    plot_compare.nodes_axis(ax, [2, 4, 8, 16])
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    if labels != ["2", "4", "8", "16"]:
        fail(f"the node axis is ticked {labels}, expected the node counts as integers")


def main():
    check_nodes_axis()
    parser = argparse.ArgumentParser()
    parser.add_argument("--distsgd", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    compare_dir = os.path.join(args.out, "compare")
    command = [args.distsgd, "compare", "--simulate", "--nodes", "2,4", "--algos", "allreduce,gossip-pull",
               "--repeat", "2", "--model", "mlp", "--epochs", "1", "--max-steps", "60", "--eval-samples", "300",
               "--target-accuracy", "0.6", "--sim-flags", "--compute-ms 5", "--out", compare_dir]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if run.returncode != 0:
        fail(f"compare exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    report = os.path.join(compare_dir, "report.html")
    if not os.path.exists(report):
        fail(f"no {report}")
    with open(report) as f:
        page = f.read()

    # Self-contained: inlined figures, nothing loaded from a URL or a file.
    sources = re.findall(r'<img[^>]*src="([^"]*)"', page)
    if len(sources) < 4:
        fail(f"expected at least 4 figures in report.html, found {len(sources)}")
    if not all(s.startswith("data:image/png;base64,") for s in sources):
        fail("a figure is not an inlined PNG")
    if re.search(r'<(link|script)[^>]+(href|src)=', page) or "http://" in page or "https://" in page:
        fail("report.html refers to something outside itself")
    for words in ("Results", "Configuration", "class-balanced subset of 300 test samples"):
        if words not in page:
            fail(f"report.html lacks '{words}'")

    # The curves: >= 10 evaluations in every run (compare's --evaluations 12).
    with open(os.path.join(compare_dir, "runs.json")) as f:
        manifest = json.load(f)
    for entry in manifest["runs"]:
        with open(os.path.join(compare_dir, "runs", entry["name"], "metrics.sim.jsonl")) as f:
            evaluations = sum(1 for line in f if json.loads(line).get("type") == "eval")
        if evaluations < 10:
            fail(f"{entry['name']}: {evaluations} evaluations, expected at least 10")

    # The page's own check, after Chromium has loaded and laid it out.
    url = "file://" + os.path.abspath(report)
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", url)
    found = re.search(r'data-rendered="([^"]*)"', dom.stdout)
    if not found:
        fail(f"Chromium's DOM has no data-rendered (exit {dom.returncode}): {dom.stderr[-2000:]}")
    rendered = json.loads(found.group(1).replace("&quot;", '"'))
    if rendered["rows"] != len(manifest["runs"]):
        fail(f"the table rendered {rendered['rows']} rows for {len(manifest['runs'])} runs")
    if rendered["images"] != len(sources) or rendered["decoded"] != len(sources):
        fail(f"{rendered['decoded']} of {len(sources)} figures decoded in Chromium")

    # A screenshot: the table's header colour and matplotlib's blue are on it.
    shot = os.path.join(args.out, "report.png")
    chromium("--virtual-time-budget=10000", "--window-size=1280,6000", f"--screenshot={shot}", url)
    if not os.path.exists(shot):
        fail("Chromium wrote no screenshot")
    image = Image.open(shot).convert("RGB")
    pixels = list(image.getdata())
    header = sum(1 for p in pixels if near(p, (0xdd, 0xe6, 0xf0), 2))
    blue = sum(1 for p in pixels if near(p, (0x1f, 0x77, 0xb4), 12))
    white = sum(1 for p in pixels if p == (255, 255, 255))
    print(f"screenshot {image.size}: {header} table-header pixels, {blue} figure-blue pixels, "
          f"{100 * white / len(pixels):.0f}% white")
    if header < 500:
        fail("the table's header is not on the screenshot")
    if blue < 500:
        fail("no figure's curve is on the screenshot")
    print("report.html: self-contained, table and figures render in Chromium")


if __name__ == "__main__":
    main()
