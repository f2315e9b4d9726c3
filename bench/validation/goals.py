"""Section f: the figures of the other sections against the simulator's goals,
each said plainly as met, not met, or not measured (a section skipped or a
run failed).
"""
import statistics

from .report import Table


class Findings:
    """What the sections measured that the goals read."""

    def __init__(self):
        self.step_errors = []   # (label, step-time error %) with the calibrated profile
        self.collectives = {}   # "network, size range" -> [|all-reduce error %|]
        self.to_target = []     # (method, row of the time-to-target table)


def verdict(ok):
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def order_by_time(rows, key):
    """Methods that reached the target, fastest first; then the others, by name."""
    reached = sorted((r[key], m) for m, r in rows if r.get(key) is not None)
    missed = sorted(f"{m} (not reached)" for m, r in rows if r.get(key) is None)
    return [m for _, m in reached] + missed, len(reached)


def goals_section(csv_out, findings):
    table = Table(csv_out, "f.goals", "the simulator against its goals", [
        ("goal", "goal", ""), ("figure", "figure", ""), ("target", "target", ""),
        ("verdict", "verdict", ""), ("detail", "detail", "")])
    errors = [abs(e) for _, e in findings.step_errors]
    median = statistics.median(errors) if errors else None
    table.row({"goal": "median step-time error", "figure": median, "target": "<= 5%",
               "verdict": verdict(None if median is None else median <= 5.0),
               "detail": f"{len(errors)} runs"})
    worst = max(findings.step_errors, key=lambda x: abs(x[1]), default=None)
    table.row({"goal": "largest step-time error", "figure": abs(worst[1]) if worst else None,
               "target": "<= 15%",
               "verdict": verdict(None if worst is None else abs(worst[1]) <= 15.0),
               "detail": worst[0] if worst else ""})
    for label, errs in findings.collectives.items():
        mid = statistics.median(errs)
        table.row({"goal": f"all-reduce (openmpi), {label}", "figure": mid,
                   "target": "median <= 10%", "verdict": verdict(mid <= 10.0),
                   "detail": f"{len(errs)} points, largest {max(errs):.1f}%"})
    diffs = [(m, r["epochs_difference"]) for m, r in findings.to_target
             if r.get("epochs_difference") is not None]
    worst_diff = max(diffs, key=lambda x: abs(x[1]), default=None)
    table.row({"goal": "epochs to target", "figure": abs(worst_diff[1]) if worst_diff else None,
               "target": "within 0.5 epoch",
               "verdict": verdict(None if worst_diff is None else abs(worst_diff[1]) <= 0.5),
               "detail": (f"{len(diffs)} methods reached it in both; worst {worst_diff[0]}"
                          if worst_diff else "no method reached the target in both")})
    real_order, real_n = order_by_time(findings.to_target, "real_time_to_target_s")
    sim_order, sim_n = order_by_time(findings.to_target, "predicted_time_to_target_s")
    measured = len(findings.to_target) >= 2 and (real_n + sim_n) > 0
    table.row({"goal": "methods in the same order by time to target",
               "figure": None, "target": "same order",
               "verdict": verdict(real_order == sim_order if measured else None),
               "detail": f"real {','.join(real_order)}; predicted {','.join(sim_order)}"})
