"""Sections b and c: step time and samples/s of real runs against the
simulator's prediction for the same flags (b on shared memory, c on the
throttled network of netns.py).

The simulations run with --host-cores 2 (the real ranks share this machine's
2 cores) and --timing-only: times do not depend on the gradients' values, and
without them a simulation of N nodes does not compute N models' steps on one
core (it still measures one step's compute at start).
"""
from .report import Table, error_pct
from .runs import compute_ms_flags

COLUMNS = [("method", "method", ""), ("ranks", "ranks", ""), ("network", "network", ""),
           ("profile", "sim profile", ""), ("real_step_s", "real step s", ""),
           ("predicted_step_s", "pred step s", ""), ("step_error_pct", "step err", "pct"),
           ("real_samples_per_s", "real samples/s", ""),
           ("predicted_samples_per_s", "pred samples/s", ""),
           ("samples_error_pct", "samples err", "pct")]

# The ASGD defaults (lr 0.1 scaled, momentum 0.9) can diverge; `make demo` uses these.
METHOD_FLAGS = {"asgd": ["--momentum", "0.5", "--lr", "0.1"]}
HOST_CORES = 2
# The engine's all-reduce is Open MPI's non-blocking one: --allreduce openmpi
# models its algorithm choice (tree below 4 ranks or 64 KiB, ring above).
SIM_TIMING = ["--host-cores", str(HOST_CORES), "--timing-only", "--allreduce", "openmpi"]


def timing_flags(steps):
    # One final evaluation on 500 test samples: the run is about step times.
    return ["--model", "cnn", "--dataset", "fashion-mnist", "--batch-size", "32",
            "--max-steps", str(steps), "--eval-every", "100000", "--eval-samples", "500",
            "--checkpoint-every", "0", "--seed", "1", "--quiet"]


def flags_for(algo, base):
    return base + METHOD_FLAGS.get(algo, [])


def timing_table(csv_out, section, title):
    return Table(csv_out, section, title, COLUMNS)


def add_prediction(row, sim):
    """A simulation's step time and samples/s into `row` (which has the real
    run's), with the errors of each."""
    row.update(predicted_step_s=sim.get("step_time_median_s"),
               predicted_samples_per_s=sim.get("samples_per_s"))
    row["step_error_pct"] = error_pct(row["predicted_step_s"], row["real_step_s"])
    row["samples_error_pct"] = error_pct(row["predicted_samples_per_s"], row["real_samples_per_s"])


def with_tree(algo, networks):
    """For allreduce, a further prediction on the first profile with --allreduce ring.

    The predictions model what the engine runs (--allreduce openmpi: Open MPI's
    libnbc is a binomial reduce and broadcast below 4 ranks or 64 KiB, the
    simulator's tree formula). The extra row shows what the simulator's default
    ring (a cluster's NCCL or Horovod) would predict instead; the goals read only
    the first prediction.
    """
    if algo != "allreduce":
        return networks
    label, spec = networks[0][:2]
    return networks + [(f"{label} --allreduce ring", spec, ["--allreduce", "ring"])]


def compare(runner, table, findings, algo, ranks, flags, networks, launcher=None,
            network_name="shared memory", kind="calibration"):
    """One real run and one simulation per (profile label, --network spec[, flags])."""
    name = f"{table.section}-{algo}-{ranks}-{network_name}".replace(" ", "_")
    real = runner.train(name, algo, ranks, flags, launcher)
    compute = []  # the first simulation's measured step, reused by the others
    for i, (label, spec, *extra) in enumerate(with_tree(algo, networks)):
        row = {"method": algo, "ranks": ranks, "network": network_name, "profile": label}
        if not real.ok:
            table.row(row, f"real run: {real.error}")
            continue
        variant = extra[0] if extra else []
        base = SIM_TIMING[:-2] if "--allreduce" in variant else SIM_TIMING
        sim = runner.simulate(f"{name}-sim{i}", algo, ranks, flags, spec, base + compute + variant)
        row.update(real_step_s=real.get("step_time_median_s"),
                   real_samples_per_s=real.get("samples_per_s"))
        if not sim.ok:
            table.row(row, f"simulation: {sim.error}")
            continue
        compute = compute or compute_ms_flags(sim, HOST_CORES)
        add_prediction(row, sim)
        table.row(row)
        if row["step_error_pct"] is not None and (i == 0 and kind == "calibration"):
            findings.step_errors.append((f"{algo}@{ranks} {network_name}",
                                         row["step_error_pct"]))
    return real
