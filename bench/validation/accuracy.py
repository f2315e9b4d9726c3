"""Section d: the accuracy side at 4 ranks on 1 epoch, real against simulated:
epochs and time to the target accuracy, the staleness histogram of asgd and
easgd (mean, p50, p90, max), and gossip's consensus distance at each
evaluation.

The simulations train the real model (no --timing-only) on the calibrated
profile with --host-cores 2. A real run evaluates every --eval-every steps; a
simulated one evaluates where its driver says (its eval records carry
"epochs"), so evaluations are paired by the epochs at which they happened.
"""
from .report import Table, error_pct
from .timing import METHOD_FLAGS


def accuracy_flags(quick):
    if quick:
        # A smoke test: 30 steps, an evaluation every 10 on 500 samples.
        return ["--model", "cnn", "--dataset", "fashion-mnist", "--batch-size", "32",
                "--epochs", "1", "--max-steps", "30", "--eval-every", "10",
                "--eval-samples", "500", "--target-accuracy", "0.5", "--checkpoint-every", "0",
                "--seed", "1", "--quiet"]
    # 1 epoch is 468 steps per worker at 4 workers (625 with a server): 4-6 evaluations.
    return ["--model", "cnn", "--dataset", "fashion-mnist", "--batch-size", "32", "--epochs", "1",
            "--eval-every", "100", "--target-accuracy", "0.8", "--checkpoint-every", "0",
            "--seed", "1", "--quiet"]


def percentile_of_histogram(counts, q):
    """The smallest staleness whose cumulative count reaches q of all updates."""
    total = sum(counts)
    if not total:
        return None
    running = 0
    for staleness, count in enumerate(counts):
        running += count
        if running >= q * total:
            return staleness
    return len(counts) - 1


def staleness_figures(result):
    counts = result.get("method", "staleness_histogram")
    if counts is None:
        return {}
    return {"staleness_mean": result.get("staleness_mean"),
            "staleness_p50": percentile_of_histogram(counts, 0.5),
            "staleness_p90": percentile_of_histogram(counts, 0.9),
            "staleness_max": result.get("staleness_max")}


def real_epochs(record):
    return record.get("epochs_done", record.get("epochs"))


def consensus(record):
    # Real eval records keep the method's figures under "method"; simulated ones at the top.
    value = record.get("consensus_distance")
    if value is None and isinstance(record.get("method"), dict):
        value = record["method"].get("consensus_distance")
    return value


def accuracy_section(runner, csv_out, findings, algos, network, quick, ranks=4):
    section = "d.accuracy"
    flags = accuracy_flags(quick)
    target = Table(csv_out, section, f"time and epochs to target ({ranks} ranks, {network})", [
        ("method", "method", ""), ("ranks", "ranks", ""),
        ("real_epochs_to_target", "real epochs", ""),
        ("predicted_epochs_to_target", "pred epochs", ""),
        ("epochs_difference", "epochs diff", ""),
        ("real_time_to_target_s", "real time s", ""),
        ("predicted_time_to_target_s", "pred time s", ""),
        ("time_error_pct", "time err", "pct"),
        ("real_final_accuracy", "real final acc", ""),
        ("predicted_final_accuracy", "pred final acc", ""),
        ("real_evaluations", "real evals", ""), ("predicted_evaluations", "pred evals", "")])
    pairs = []
    for algo in algos:
        run_flags = flags + METHOD_FLAGS.get(algo, [])
        real = runner.train(f"{section}-{algo}-{ranks}", algo, ranks, run_flags)
        row = {"method": algo, "ranks": ranks}
        if not real.ok:
            target.row(row, f"real run: {real.error}")
            continue
        sim = runner.simulate(f"{section}-{algo}-{ranks}-sim", algo, ranks, run_flags, network,
                              ["--host-cores", "2"])
        row.update(real_epochs_to_target=real.get("epochs_to_target"),
                   real_time_to_target_s=real.get("time_to_target_s"),
                   real_final_accuracy=real.get("final_test_accuracy"),
                   real_evaluations=len(real.evals))
        if not sim.ok:
            target.row(row, f"simulation: {sim.error}")
            continue
        row.update(predicted_epochs_to_target=sim.get("epochs_to_target"),
                   predicted_time_to_target_s=sim.get("time_to_target_s"),
                   predicted_final_accuracy=sim.get("final_test_accuracy"),
                   predicted_evaluations=len(sim.evals))
        if row["real_epochs_to_target"] is not None and \
                row["predicted_epochs_to_target"] is not None:
            row["epochs_difference"] = (row["predicted_epochs_to_target"] -
                                        row["real_epochs_to_target"])
        row["time_error_pct"] = error_pct(row["predicted_time_to_target_s"],
                                          row["real_time_to_target_s"])
        target.row(row)
        findings.to_target.append((algo, row))
        pairs.append((algo, real, sim))
    staleness_table(csv_out, section, pairs)
    consensus_table(csv_out, section, pairs)


def staleness_table(csv_out, section, pairs):
    table = Table(csv_out, section, "staleness (updates behind) of asgd and easgd", [
        ("method", "method", ""), ("quantity", "quantity", ""), ("real", "real", ""),
        ("predicted", "predicted", ""), ("error_pct", "error", "pct")])
    for algo, real, sim in pairs:
        if algo not in ("asgd", "easgd"):
            continue
        r, p = staleness_figures(real), staleness_figures(sim)
        for quantity in ("staleness_mean", "staleness_p50", "staleness_p90", "staleness_max"):
            table.row({"method": algo, "quantity": quantity, "real": r.get(quantity),
                       "predicted": p.get(quantity),
                       "error_pct": error_pct(p.get(quantity), r.get(quantity))})


def consensus_table(csv_out, section, pairs):
    table = Table(csv_out, section, "gossip consensus distance at each evaluation", [
        ("method", "method", ""), ("epochs", "epochs", ""), ("real", "real", ""),
        ("predicted", "predicted", ""), ("error_pct", "error", "pct")])
    for algo, real, sim in pairs:
        if not algo.startswith("gossip"):
            continue
        simulated = {round(e.get("epochs", -1), 4): consensus(e) for e in sim.evals}
        # The last evaluation at each point: the run's final one can fall on
        # the step of an --eval-every one.
        measured = {round(real_epochs(e), 4): consensus(e) for e in real.evals}
        seen = set()
        for epochs, value in sorted(measured.items()):
            seen.add(epochs)
            predicted = simulated.get(epochs)
            table.row({"method": algo, "epochs": epochs, "real": value,
                       "predicted": predicted,
                       "error_pct": error_pct(predicted, value)})
        for epochs, value in sorted(simulated.items()):
            if epochs not in seen:  # a simulated evaluation the real run did not make
                table.row({"method": algo, "epochs": epochs, "predicted": value})
