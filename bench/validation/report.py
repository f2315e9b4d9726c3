"""Tables printed side by side, and every row of them in one CSV.

Each printed row is also one CSV row: the section, then the table's own
columns under their names (a column a section does not use is empty), so
one file holds every table and a reader picks a section by its first column.
"""
import csv
import math


def error_pct(predicted, real):
    """(predicted - real) / real in percent; None when either is missing or real is 0."""
    if predicted is None or real is None or not real:
        return None
    return 100.0 * (predicted - real) / real


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def fmt_pct(value):
    return "-" if value is None else f"{value:+.1f}%"


class Csv:
    """One CSV for every section; the header is every column seen, written at close."""

    def __init__(self, path):
        self.path = path
        self.rows = []
        self.columns = ["section"]

    def add(self, section, row):
        for key in row:
            if key not in self.columns:
                self.columns.append(key)
        self.rows.append(dict(row, section=section))

    def sections(self):
        return {row["section"] for row in self.rows}

    def write(self):
        # Written whole each time: a run stopped half-way still leaves a readable file.
        with open(self.path, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=self.columns)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


_last_printed = None  # the table whose header or row was printed last

# Room for the longest value a column usually holds, so that rows stay aligned.
WIDTHS = {"network": 17, "profile": 26, "case": 28, "goal": 46, "detail": 44, "method": 11,
          "range": 15, "variant": 16, "best": 16, "quantity": 14}


class Table:
    """A printed table whose rows also go to the CSV under `section`.

    columns: (key, heading, kind) with kind "pct" for an error percentage,
    anything else printed by fmt().
    """

    def __init__(self, csv_out, section, title, columns):
        self.csv = csv_out
        self.section = section
        self.columns = columns
        self.title = title
        self.widths = [max(len(heading), 10, WIDTHS.get(key, 0)) for key, heading, _ in columns]
        self.print_header()

    def print_header(self):
        global _last_printed
        _last_printed = self
        print(f"\n== {self.section}: {self.title}")
        print("  ".join(h.rjust(w) for (_, h, _), w in zip(self.columns, self.widths)))

    def row(self, values, error=None):
        if _last_printed is not self:  # another table printed in between: head this one again
            self.print_header()
        cells = []
        for (key, _, kind), width in zip(self.columns, self.widths):
            value = values.get(key)
            cells.append((fmt_pct(value) if kind == "pct" else fmt(value)).rjust(width))
        line = "  ".join(cells)
        if error:
            line += f"  FAILED: {error}"
        print(line, flush=True)
        self.csv.add(self.section, dict(values, error=error))
        self.csv.write()
