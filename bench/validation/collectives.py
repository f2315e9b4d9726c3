"""Section a: the calibration's all-reduces and ping-pongs, measured against
what the simulator predicts from the profile fitted to the same calibration.

The all-reduce predictions are the simulator's own (`distsgd calibrate` stores
sim::allreduce_s for what the engine runs on Open MPI, --allreduce openmpi, and
the best of ring, tree and halving-doubling, as each series' "predicted" list);
the ping-pong's fitted
time is the profile's latency + bytes / bandwidth of the size's range.
"""
from .report import Table, error_pct


def size_label(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}"
        n /= 1024.0
    return f"{n:g}"


def range_of(ranges, n):
    """The index and label of the fitted range that holds a message of n bytes."""
    low = 0.0
    for i, r in enumerate(ranges):
        high = r["max_bytes"]
        if high is None or n <= high:
            label = f"over {size_label(low)}" if high is None else \
                f"({size_label(low)}, {size_label(high)}]"
            return i, label if len(ranges) > 1 else "all sizes"
        low = high
    return len(ranges) - 1, "?"


def fitted_one_way(ranges, n):
    r = ranges[range_of(ranges, n)[0]]
    bandwidth = r["bandwidth_Bps"]
    return r["latency_s"] + (n / bandwidth if bandwidth else 0.0)


def report_calibration(csv_out, section, calibration, network, findings=None):
    """Prints and records both tables; adds the all-reduce errors to findings."""
    ranges = calibration["ranges"]
    table = Table(csv_out, section, f"all-reduce, measured vs predicted ({network})", [
        ("network", "network", ""), ("ranks", "ranks", ""), ("size", "size", ""),
        ("range", "fitted range", ""), ("real_s", "measured s", ""),
        ("predicted_s", "engine s", ""), ("error_pct", "engine err", "pct"),
        ("best", "best algorithm", ""), ("best_s", "best s", ""),
        ("best_error_pct", "best err", "pct")])
    for series in calibration["allreduce"]:
        predicted = series.get("predicted")
        if predicted is None:
            table.row({"network": network, "ranks": series["ranks"]},
                      "the calibration file has no 'predicted' list (a distsgd calibrate "
                      "older than this script)")
            continue
        for p in predicted:
            err = error_pct(p["engine_s"], p["measured_s"])
            _, label = range_of(ranges, p["bytes"])
            table.row({"network": network, "ranks": series["ranks"],
                       "size": size_label(p["bytes"]), "bytes": p["bytes"], "range": label,
                       "real_s": p["measured_s"], "predicted_s": p["engine_s"], "error_pct": err,
                       "best": p["best"], "best_s": p["best_s"],
                       "best_error_pct": error_pct(p["best_s"], p["measured_s"])})
            if findings is not None and err is not None:
                findings.collectives.setdefault(f"{network}, {label}", []).append(abs(err))
    pingpong = Table(csv_out, section, f"ping-pong one-way, measured vs fitted ({network})", [
        ("network", "network", ""), ("size", "size", ""), ("range", "fitted range", ""),
        ("real_s", "measured s", ""), ("predicted_s", "fitted s", ""),
        ("error_pct", "error", "pct")])
    for n, seconds in calibration["pingpong"]:
        fitted = fitted_one_way(ranges, n)
        pingpong.row({"network": network, "quantity": "pingpong_one_way_s",
                      "size": size_label(n), "bytes": n, "range": range_of(ranges, n)[1],
                      "real_s": seconds, "predicted_s": fitted,
                      "error_pct": error_pct(fitted, seconds)})


def small_message_latency_s(calibration):
    """The one-way time of the smallest ping-pong: the latency a plain spec uses."""
    return min(calibration["pingpong"], key=lambda p: p[0])[1]


def calibrate_section(runner, csv_out, out_file, ranks, quick, findings, launcher=None,
                      section="a.collectives", network="shared memory"):
    """Calibrates into out_file and reports it; the calibration dict, or None on failure."""
    max_mb, repeat = (1, 10) if quick else (64, 20)
    if launcher is not None:
        # A throttled link: 100 Mbit/s moves 64 MiB in 5 s, times 20 repeats
        # and two measurements: keep the largest messages smaller there.
        max_mb, repeat = (1, 3) if quick else (8, 5)
    calibration, output, error = runner.calibrate(out_file, ranks, max_mb, repeat, launcher)
    if error:
        Table(csv_out, section, f"calibration ({network})",
              [("network", "network", "")]).row({"network": network}, error)
        return None
    print(output.rstrip())
    report_calibration(csv_out, section, calibration, network, findings)
    return calibration
