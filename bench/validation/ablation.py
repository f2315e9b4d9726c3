"""Section e: the ablation. For a case where one part of the model should
matter, the prediction of the full model and of the model without each part
(--no-link-queues, --no-overlap, --no-stragglers), against the real figure:
the part that matters is the one whose removal moves the prediction away.
"""
from .report import Table
from .runs import compute_ms_flags
from .timing import HOST_CORES, SIM_TIMING, add_prediction

VARIANTS = [("full model", []), ("--no-link-queues", ["--no-link-queues"]),
            ("--no-overlap", ["--no-overlap"]), ("--no-stragglers", ["--no-stragglers"])]


def ablation_table(csv_out):
    return Table(csv_out, "e.ablation", "each part of the model removed in turn", [
        ("case", "case", ""), ("method", "method", ""), ("ranks", "ranks", ""),
        ("network", "network", ""), ("variant", "variant", ""),
        ("real_step_s", "real step s", ""), ("predicted_step_s", "pred step s", ""),
        ("step_error_pct", "step err", "pct"), ("real_samples_per_s", "real samples/s", ""),
        ("predicted_samples_per_s", "pred samples/s", ""),
        ("samples_error_pct", "samples err", "pct")])


def ablate(runner, table, case, algo, ranks, flags, network_spec, launcher=None,
           network_name="shared memory"):
    """The real run (reused if an earlier section made the same one) and four predictions."""
    name = f"e.ablation-{algo}-{ranks}-{network_name}".replace(" ", "_")
    real = runner.train(name, algo, ranks, flags, launcher)
    compute = []  # the full model's measured step, reused by the variants
    for variant, extra in VARIANTS:
        row = {"case": case, "method": algo, "ranks": ranks, "network": network_name,
               "variant": variant}
        if not real.ok:
            table.row(row, f"real run: {real.error}")
            continue
        row.update(real_step_s=real.get("step_time_median_s"),
                   real_samples_per_s=real.get("samples_per_s"))
        tag = variant.strip("-").replace(" ", "_")
        sim = runner.simulate(f"{name}-{tag}", algo, ranks, flags, network_spec,
                              SIM_TIMING + extra + compute)
        if not sim.ok:
            table.row(row, f"simulation: {sim.error}")
            continue
        compute = compute or compute_ms_flags(sim, HOST_CORES)
        add_prediction(row, sim)
        table.row(row)
