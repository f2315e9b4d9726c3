"""report.html of a `distsgd compare` directory: one self-contained file (the
figures inlined as data URIs, no external style, script or font), so it can be
mailed or opened anywhere. It holds the command, the results table, the
figures, what evaluations scored, every run's command and the configuration.

When the page has loaded, a short script writes what rendered into
<body data-rendered="...">: the table's rows and how many figures decoded
(naturalWidth > 0). tests/cli/report_html_test.py reads it back from headless
Chromium, beside a screenshot.
"""
import base64
import html
import json
import os

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #1d1d1d; max-width: 1100px; }
table.results { border-collapse: collapse; font-size: 13px; }
table.results th { background: #dde6f0; border: 1px solid #7f8fa6; padding: 3px 6px; }
table.results td { border: 1px solid #7f8fa6; padding: 3px 6px; text-align: right; }
table.results td.text { text-align: left; min-width: 7em; }
div.scroll { overflow-x: auto; }
tr.failed td { background: #f6d5d5; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ccc; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; font-size: 12px; }
"""

CHECK = """
window.addEventListener('load', function () {
  var images = document.querySelectorAll('figure img');
  var decoded = 0;
  images.forEach(function (img) { if (img.complete && img.naturalWidth > 0) decoded++; });
  var rows = document.querySelectorAll('table.results tbody tr').length;
  document.body.dataset.rendered = JSON.stringify({rows: rows, images: images.length, decoded: decoded});
});
"""

TEXT_COLUMNS = {"algo", "straggler", "status", "simulated"}


def readable(cell):
    """A CSV cell for the eye: floats to 4 significant digits (the CSV keeps them all)."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    if value.is_integer() and "." not in cell and "e" not in cell:
        return cell
    return f"{value:.4g}"


def inline_png(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def evaluated_on(config):
    samples = config.get("eval_samples", 0)
    if samples:
        return (f"Evaluations during training score a fixed, class-balanced subset of {samples} test samples "
                "(the curves and the time to target); the final accuracy scores the whole test set.")
    return "Every evaluation scores the whole test set."


def table(rows):
    if not rows:
        return "<p>No runs.</p>"
    columns = list(rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="{"text" if c in TEXT_COLUMNS else "number"}">{html.escape(readable(row[c]))}</td>'
            for c in columns)
        css = "" if row.get("status", "ok") == "ok" or row.get("status", "").startswith("skipped") else "failed"
        body.append(f'<tr class="{css}">{cells}</tr>')
    return (f'<div class="scroll"><table class="results"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def write(directory, manifest, rows, figures, config):
    simulated = manifest.get("simulated")
    title = "distsgd comparison" + (" (simulated)" if simulated else "")
    parts = [f"<h1>{html.escape(title)}</h1>",
             "<p>Produced by:</p>", f"<pre>{html.escape(manifest.get('command', '?'))}</pre>",
             f"<p>Launcher: <code>{html.escape(manifest.get('launcher', '?'))}</code>. "
             f"{html.escape(evaluated_on(config))}</p>"]
    if simulated:
        parts.append("<p>Every run is simulated (<code>distsgd simulate</code>): times are virtual, the seconds "
                     "the modelled cluster would take; simulator flags: <code>"
                     f"{html.escape(manifest.get('sim_flags') or 'none')}</code>.</p>")
    parts += ["<h2>Results</h2>", table(rows)]
    for name, caption in figures:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            parts.append(f'<figure><img alt="{html.escape(caption)}" src="{inline_png(path)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    commands = [f"{run['name']}: {run.get('command', run.get('status', ''))}" for run in manifest.get("runs", [])]
    parts += ["<h2>Runs</h2>", "<details><summary>Every run's command</summary>",
              f"<pre>{html.escape(chr(10).join(commands))}</pre></details>",
              "<h2>Configuration</h2>",
              "<p>The train configuration of the first run (each run's own is in its summary.json):</p>",
              f"<pre>{html.escape(json.dumps(config, indent=2, sort_keys=True))}</pre>"]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{chr(10).join(parts)}\n<script>{CHECK}</script>\n</body></html>\n")
    temporary = os.path.join(directory, ".report.html.tmp")
    with open(temporary, "w") as f:
        f.write(page)
    os.replace(temporary, os.path.join(directory, "report.html"))
