"""Running distsgd: real mpirun jobs, simulations and calibrations.

Every subprocess has a timeout. A run that fails (non-zero exit, timeout, no
summary) comes back as a Result with its error text; the caller reports it in
its row and goes on, and the script exits non-zero at the end (Runner.failures).
"""
import json
import os
import subprocess
import time

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]


class Result:
    def __init__(self, summary=None, evals=None, error=None, stdout="", wall_s=0.0):
        self.summary = summary or {}
        self.evals = evals or []
        self.error = error
        self.stdout = stdout
        self.wall_s = wall_s

    @property
    def ok(self):
        return self.error is None

    def get(self, *keys):
        """summary[k1][k2]...; None where any level is missing or null."""
        value = self.summary
        for key in keys:
            if not isinstance(value, dict) or value.get(key) is None:
                return None
            value = value[key]
        return value


class LocalLauncher:
    """mpirun on this machine: shared memory between the ranks."""

    name = "local"

    def command(self, ranks, argv):
        return MPIRUN + ["-np", str(ranks)] + argv


def last_lines(text, n=3):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])[-400:]


class Runner:
    def __init__(self, distsgd, out_dir, timeout_s):
        self.distsgd = os.path.abspath(distsgd)
        self.out_dir = out_dir
        self.timeout_s = timeout_s
        self.failures = []
        self.real_runs = {}  # one real run per launcher, method, ranks and flags
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def execute(self, cmd, what, timeout_s=None):
        """(stdout+stderr, error or None) of one command."""
        timeout_s = timeout_s or self.timeout_s
        start = time.monotonic()
        try:
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env=self.env, timeout=timeout_s, text=True)
        except subprocess.TimeoutExpired as expired:
            output = expired.stdout or ""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            return output, self.fail(what, f"timed out after {timeout_s:.0f} s"), timeout_s
        except OSError as error:
            return "", self.fail(what, f"cannot start {cmd[0]}: {error}"), 0.0
        wall = time.monotonic() - start
        if done.returncode != 0:
            return done.stdout, self.fail(
                what, f"exit {done.returncode}: {last_lines(done.stdout)}"), wall
        return done.stdout, None, wall

    def fail(self, what, error):
        self.failures.append(f"{what}: {error}")
        return error

    def log_dir(self, name):
        path = os.path.join(self.out_dir, "runs", name)
        os.makedirs(path, exist_ok=True)
        for stale in ("summary.json", "metrics.rank0.jsonl", "metrics.sim.jsonl"):
            if os.path.exists(os.path.join(path, stale)):
                os.remove(os.path.join(path, stale))
        return path

    def collect(self, what, output, error, wall, log_dir, metrics_file):
        if error:
            return Result(error=error, stdout=output, wall_s=wall)
        try:
            with open(os.path.join(log_dir, "summary.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError) as exc:
            return Result(error=self.fail(what, f"no readable summary.json ({exc})"),
                          stdout=output, wall_s=wall)
        return Result(summary, read_evals(os.path.join(log_dir, metrics_file)), None, output, wall)

    def train(self, name, algo, ranks, flags, launcher=None):
        """A real run of `ranks` ranks; LOGDIR/summary.json and metrics.rank0.jsonl."""
        launcher = launcher or LocalLauncher()
        key = (launcher.name, algo, ranks, tuple(flags))
        if key in self.real_runs:
            return self.real_runs[key]
        log_dir = self.log_dir(name)
        argv = [self.distsgd, "train", "--algo", algo] + flags + ["--log-dir", log_dir]
        what = f"real {name}"
        output, error, wall = self.execute(launcher.command(ranks, argv), what)
        result = self.collect(what, output, error, wall, log_dir, "metrics.rank0.jsonl")
        self.real_runs[key] = result
        return result

    def simulate(self, name, algo, nodes, flags, network, extra=()):
        """`distsgd simulate` of the same flags on `nodes` virtual ranks."""
        log_dir = self.log_dir(name)
        cmd = [self.distsgd, "simulate", "--algo", algo, "--nodes", str(nodes),
               "--network", network] + list(extra) + flags + ["--log-dir", log_dir]
        what = f"simulated {name}"
        output, error, wall = self.execute(cmd, what)
        return self.collect(what, output, error, wall, log_dir, "metrics.sim.jsonl")

    def calibrate(self, out_file, ranks, max_mb, repeat, launcher=None):
        """The calibration JSON (dict) and the printed table, or (None, error)."""
        launcher = launcher or LocalLauncher()
        argv = [self.distsgd, "calibrate", "--out", out_file, "--max-mb", str(max_mb),
                "--repeat", str(repeat), "--timeout-s", "120"]
        what = f"calibrate {ranks} ranks ({launcher.name})"
        if os.path.exists(out_file):
            os.remove(out_file)
        output, error, _ = self.execute(launcher.command(ranks, argv), what)
        if error:
            return None, output, error
        try:
            with open(out_file) as f:
                return json.load(f), output, None
        except (OSError, ValueError) as exc:
            return None, output, self.fail(what, f"no readable {out_file} ({exc})")


def compute_ms_flags(sim, host_cores):
    """--compute-ms of the step compute a simulation measured (before its
    --host-cores factor, which the next simulation applies again), so that
    simulations compared with each other differ only in what they vary, not
    in two measurements of a step on a busy machine. [] if it is unknown."""
    step_s = sim.get("compute", "step_s")
    workers = sim.get("workers")
    if not step_s or not workers:
        return []
    unscaled = step_s / max(1.0, workers / host_cores)
    return ["--compute-ms", f"{unscaled * 1000.0:.6g}"]


def read_evals(path):
    """The "eval" records of a metrics JSONL file (none if it is missing)."""
    evals = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut by a killed run
                if record.get("type") == "eval":
                    evals.append(record)
    except OSError:
        pass
    return evals
