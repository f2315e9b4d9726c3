#!/usr/bin/env python3
"""The simulator's validation: real runs against `distsgd simulate`, side by side.

    python3 bench/validate_simulator.py [--out DIR] [--quick] [--skip-netns] [--distsgd PATH]

  a. calibrates 4 ranks (OUT/calibration.json): each all-reduce measured
     against the simulator's prediction, each ping-pong against the fit;
  b. step time and samples/s of every method at 1, 2 and 4 ranks, real
     mpirun runs against `distsgd simulate --network OUT/calibration.json
     --host-cores 2` of the same flags;
  c. the same on a throttled network (a namespace per rank, tbf on both ends
     of each rank's link), the profile calibrated inside those namespaces and,
     as a second prediction, the plain spec bw=RATE,lat=<measured one-way>;
  d. the accuracy side at 4 ranks on 1 epoch: epochs and time to target,
     staleness histograms, consensus distance at each evaluation;
  e. the ablation: full model against --no-link-queues, --no-overlap,
     --no-stragglers, where each part should matter;
  f. the goals, said plainly as met or not.

Every row goes to OUT/validation.csv (the first column names the section).
A failed run is reported in its row and the script goes on; it exits 1 at the
end if any run failed or a section it ran wrote no row. docs/simulator.md
("Validation") says what each part measures.
"""
import argparse
import os
import signal
import subprocess
import sys

from validation import ablation, accuracy, collectives, goals, netns, timing
from validation.report import Csv, Table
from validation.runs import Runner

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ["allreduce", "asgd", "easgd", "gossip-pull", "gossip-push", "local-sgd", "gossip-pga"]


class Plan:
    """What each section runs: the full validation, or a smoke test (--quick)."""

    def __init__(self, quick, methods=None):
        self.quick = quick
        self.steps = 20 if quick else 150
        # (method, ranks): asgd/easgd need a worker and a server, gossip a peer.
        self.timing = [("allreduce", 2), ("asgd", 2)] if quick else \
            [("allreduce", 1), ("allreduce", 2), ("allreduce", 4)] + \
            [(m, r) for m in METHODS[1:] for r in (2, 4)]
        # (ranks, tc rate, the same rate as a --network spec)
        self.throttled = [(2, "100mbit", "100Mbit")] if quick else \
            [(2, "100mbit", "100Mbit"), (4, "100mbit", "100Mbit"),
             (2, "1gbit", "1Gbit"), (4, "1gbit", "1Gbit")]
        self.throttled_methods = ["allreduce", "asgd"] if quick else \
            ["allreduce", "asgd", "gossip-pull", "gossip-push"]
        self.accuracy = ["asgd", "gossip-pull"] if quick else METHODS
        self.straggler_ranks = 2 if quick else 4
        # Where the throttled ablation cases run: (ranks, rate) of a throttled setup.
        self.link_queue_case = (2, "100mbit") if quick else (4, "100mbit")
        self.overlap_case = (2, "100mbit") if quick else (4, "1gbit")
        self.timeout_s = 300 if quick else 1200
        if methods:  # --methods: only these (the collectives and goals still run)
            self.timing = [(m, r) for m, r in self.timing if m in methods]
            self.throttled_methods = [m for m in self.throttled_methods if m in methods]
            self.accuracy = [m for m in self.accuracy if m in methods]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/validation", help="output directory")
    parser.add_argument("--quick", action="store_true",
                        help="tiny runs, 1-2 configurations per section (a smoke test)")
    parser.add_argument("--skip-netns", action="store_true",
                        help="skip the throttled network (section c and its ablation cases)")
    parser.add_argument("--methods", default="",
                        help="comma-separated: validate only these methods (default: all)")
    parser.add_argument("--distsgd", default=os.path.join(REPO, "build", "distsgd"),
                        help="the distsgd binary (default: build/distsgd)")
    return parser.parse_args(argv)


def check_binary(path):
    """A clear error, not a traceback, for a binary that is missing or lacks simulate."""
    if not os.access(path, os.X_OK):
        return f"no executable distsgd at '{path}' (build it, or pass --distsgd PATH)"
    for command in ("simulate", "calibrate"):
        try:
            done = subprocess.run([path, command, "--help"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"'{path} {command} --help' did not run: {error}"
        if done.returncode != 0:
            return f"'{path}' has no '{command}' command (exit {done.returncode} for --help)"
    return None


def throttled_section(runner, csv_out, findings, plan, out_dir, ablations):
    """Section c (and the throttled ablation cases) inside each namespace setup."""
    reason = netns.unavailable_reason()
    if reason:
        print(f"\n== c.throttled: skipped: network namespaces cannot be made here ({reason})")
        return False
    table = None
    for ranks, rate, spec_rate in plan.throttled:
        name = f"netns {ranks}x{rate}"
        try:
            with netns.SlowNetwork(ranks, rate) as net:
                calibration_file = os.path.join(out_dir, f"calibration-netns-{ranks}x{rate}.json")
                calibration = collectives.calibrate_section(
                    runner, csv_out, calibration_file, ranks, plan.quick, findings, net,
                    section="c.throttled", network=name)
                if calibration is None:
                    continue
                latency_us = collectives.small_message_latency_s(calibration) * 1e6
                plain = f"bw={spec_rate},lat={latency_us:.1f}us"
                networks = [("calibrated", calibration_file), (plain, plain)]
                table = table or timing.timing_table(csv_out, "c.throttled",
                                                     "step time, throttled network")
                for algo in plan.throttled_methods:
                    flags = timing.flags_for(algo, timing.timing_flags(plan.steps))
                    timing.compare(runner, table, findings, algo, ranks, flags, networks, net,
                                   name)
                for case, algo in (("link queues", "asgd"), ("overlap", "allreduce")):
                    wanted = plan.link_queue_case if case == "link queues" else plan.overlap_case
                    if wanted == (ranks, rate):
                        flags = timing.flags_for(algo, timing.timing_flags(plan.steps))
                        if case == "overlap":
                            # cnn's 0.9 MB of gradients fill one 25 MiB bucket,
                            # which is ready only when backward ends: nothing to
                            # overlap. 4 buckets let the all-reduce start early.
                            flags += ["--bucket-mb", "0.25"]
                        ablation.ablate(runner, ablations, case, algo, ranks, flags,
                                        calibration_file, net, name)
        except netns.NetnsUnavailable as error:
            message = runner.fail(f"namespaces {name}", str(error))
            Table(csv_out, "c.throttled", f"namespaces {name}",
                  [("network", "network", "")]).row({"network": name}, message)
    return True


def main(argv):
    args = parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"validate_simulator: error: unknown --methods {','.join(unknown)} "
              f"(known: {','.join(METHODS)})", file=sys.stderr)
        return 2
    plan = Plan(args.quick, methods)
    problem = check_binary(args.distsgd)
    if problem:
        print(f"validate_simulator: error: {problem}", file=sys.stderr)
        return 2
    # SIGTERM (a ctest timeout) and SIGINT end the script through `finally`
    # blocks, so the namespaces are removed and the running job is killed.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _: sys.exit(128 + number))
    os.makedirs(args.out, exist_ok=True)
    csv_out = Csv(os.path.join(args.out, "validation.csv"))
    runner = Runner(args.distsgd, args.out, plan.timeout_s)
    findings = goals.Findings()
    ran = ["a.collectives", "b.timing", "d.accuracy", "e.ablation", "f.goals"]
    print(f"validate_simulator: {'quick' if args.quick else 'full'} run, {plan.steps} steps per "
          f"timing run, cnn on Fashion-MNIST, batch 32; distsgd {args.distsgd}; out {args.out}")

    calibration_file = os.path.join(args.out, "calibration.json")
    collectives.calibrate_section(runner, csv_out, calibration_file, 4, plan.quick, findings)

    table = timing.timing_table(csv_out, "b.timing", "step time, shared memory (calibrated)")
    for algo, ranks in plan.timing:
        flags = timing.flags_for(algo, timing.timing_flags(plan.steps))
        timing.compare(runner, table, findings, algo, ranks, flags,
                       [("calibrated", calibration_file)])

    ablations = ablation.ablation_table(csv_out)
    straggler_flags = timing.timing_flags(plan.steps) + ["--straggler", "1:4"]
    ablation.ablate(runner, ablations, "stragglers (--straggler 1:4)", "allreduce",
                    plan.straggler_ranks, straggler_flags, calibration_file)
    if args.skip_netns:
        print("\n== c.throttled: skipped (--skip-netns)")
    elif throttled_section(runner, csv_out, findings, plan, args.out, ablations):
        ran.append("c.throttled")

    accuracy.accuracy_section(runner, csv_out, findings, plan.accuracy, calibration_file,
                              plan.quick)
    goals.goals_section(csv_out, findings)
    csv_out.write()

    missing = [s for s in ran if s not in csv_out.sections()]
    print(f"\nwrote {csv_out.path} ({len(csv_out.rows)} rows; sections "
          f"{', '.join(sorted(csv_out.sections()))})")
    for section in missing:
        runner.fail(section, "wrote no row")
    if runner.failures:
        print(f"validate_simulator: {len(runner.failures)} failure(s):", file=sys.stderr)
        for failure in runner.failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
