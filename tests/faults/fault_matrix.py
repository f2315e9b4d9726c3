#!/usr/bin/env python3
"""The fault matrix of distsgd: real mpirun jobs, real signals, real data.

Each case starts a training job, injects one fault into one rank (SIGKILL,
SIGSTOP/SIGCONT, SIGTERM/SIGINT, a NaN loss), and checks what happened: the exit
status, the time from the fault to the first diagnostic line and to the end of
the job, the message, and for runs that go on, the final accuracy.

  fault_matrix.py --distsgd build/distsgd --case allreduce-sigkill-worker
  fault_matrix.py --distsgd build/distsgd --all --table   # the README table

Exit status 0 when every case run passed. Standard library only.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HARD_LIMIT_S = 150  # a job still running after this is a hang: the case fails


class Mpi:
    """What the matrix needs to know of the MPI the job runs on: how to launch
    it, how its ranks are found, and what its launcher does at a fault (measured:
    docs/mpi.md)."""

    def __init__(self, flavour, mpiexec):
        self.flavour = flavour
        if flavour == "openmpi":
            self.launch = [mpiexec or "mpirun", "--allow-run-as-root", "--oversubscribe",
                           "--bind-to", "none"]
            self.rank_variable = "OMPI_COMM_WORLD_RANK"
            self.keep_going = ["--enable-recovery"]
        elif flavour == "mpich":
            # Hydra: no binding and oversubscription by default, root allowed.
            self.launch = [mpiexec or "mpiexec.mpich"]
            self.rank_variable = "PMI_RANK"
            self.keep_going = ["-disable-auto-cleanup"]
        else:
            raise ValueError(f"unknown MPI flavour {flavour}")

    def killed_rank_pattern(self, rank):
        """The launcher's report of rank `rank` killed by SIGKILL. Open MPI's
        mpirun names the rank; MPICH's Hydra names only the process (its pid and
        exit code) of the first rank it saw end, which may be a survivor that
        UCX aborted when its peer vanished mid-message."""
        if self.flavour == "openmpi":
            return rf"rank {rank} .*exited on signal 9"
        return r"BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES\n=\s+PID \d+ RUNNING AT"

    @property
    def survives_lost_rank(self):
        """Whether the launcher can keep the other ranks running (Open MPI's
        --enable-recovery). Hydra cannot (measured, docs/mpi.md): distsgd
        refuses --survive-worker-loss there."""
        return self.flavour == "openmpi"


MPI = Mpi("openmpi", None)  # set from the command line in main()


class Job:
    """An mpirun job whose output lines are stamped with the time they arrived."""

    def __init__(self, argv, log_dir, np, mpirun_flags=()):
        self.log_dir = log_dir
        self.lines = []  # (time, text)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        self.command = MPI.launch + list(mpirun_flags) + ["-np", str(np)] + argv
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.ended = None

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def rank_pid(self, rank, timeout=60):
        """The pid of rank `rank` of this job (found by its environment and log dir)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read().split(b"\0")
                    if b"train" not in cmdline or self.log_dir.encode() not in cmdline:
                        continue
                    if os.path.basename(cmdline[0]).startswith((b"mpirun", b"mpiexec")):
                        continue
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        environ = f.read().split(b"\0")
                except OSError:
                    continue
                if f"{MPI.rank_variable}={rank}".encode() in environ:
                    return int(pid)
            time.sleep(0.1)
        raise RuntimeError(f"rank {rank} of the job did not appear within {timeout} s")

    def signal_rank(self, rank, sig):
        os.kill(self.rank_pid(rank), sig)

    def wait(self, limit=HARD_LIMIT_S):
        """Exit status, or None if the job hung (then it is killed)."""
        try:
            code = self.proc.wait(timeout=max(1.0, self.started + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            code = None
        self.ended = time.monotonic()
        self.reader.join(timeout=5)
        return code

    def output(self):
        return "\n".join(text for _, text in self.lines)

    def first_line_after(self, t, pattern):
        for stamp, text in self.lines:
            if stamp >= t and re.search(pattern, text):
                return stamp
        return None

    def summary(self):
        path = os.path.join(self.log_dir, "summary.json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)


def wait_for_file(path, job, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        if job.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def wait_for_steps(path, job, timeout=90):
    """Waits until rank 0's metrics hold a step record: training is under way
    (the file itself exists from before the first step, and on a loaded machine
    the start can take longer than any fixed delay)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                if any('"type":"step"' in line for line in f):
                    return True
        if job.proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def start_training(job, checks, settle_s):
    """Waits until the job trains, then `settle_s` more; returns the time of the fault."""
    checks.expect(wait_for_steps(os.path.join(job.log_dir, "metrics.rank0.jsonl"), job),
                  "the job did not start training")
    time.sleep(settle_s)
    checks.expect(job.proc.poll() is None, "the job ended before the fault")
    return time.monotonic()


def max_step_gap(log_dir, rank):
    """The longest time between two consecutive steps of `rank` (from its metrics)."""
    times = []
    with open(os.path.join(log_dir, f"metrics.rank{rank}.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            if record.get("type") == "step":
                times.append(record["wall_s"])
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


class Case:
    """`mpis`: the MPIs the case means something on (all by default)."""

    def __init__(self, name, method, fault, run, mpis=("openmpi", "mpich")):
        self.name, self.method, self.fault, self.run = name, method, fault, run
        self.mpis = mpis


class Checks:
    """Collects failed expectations instead of stopping at the first."""

    def __init__(self):
        self.failures = []

    def expect(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def train_argv(args, log_dir, algo, *extra):
    # ASGD's stale gradients act as extra momentum: it needs less of its own.
    tuning = ["--momentum", "0.5", "--lr", "0.1"] if algo == "asgd" else []
    return [args.distsgd, "train", "--algo", algo, "--model", "mlp", "--batch-size", "64",
            "--log-dir", log_dir, "--quiet", "--seed", "1", *tuning, *extra]


# --- the cases: each returns a result dict -------------------------------------------

def kill_worker_sync(args, work, checks):
    log = os.path.join(work, "log")
    job = Job(train_argv(args, log, "allreduce", "--epochs", "4", "--timeout-s", "60"), log, 3)
    checkpoint = os.path.join(log, "checkpoint-epoch1.ckpt")
    checks.expect(wait_for_file(checkpoint, job), "no checkpoint before the fault")
    time.sleep(0.5)
    fault = time.monotonic()
    job.signal_rank(1, signal.SIGKILL)
    code = job.wait()
    out = job.output()
    checks.expect(code not in (0, None), f"exit status {code}, expected non-zero")
    checks.expect(job.ended - fault <= 30, f"took {job.ended - fault:.1f} s to end (bound 30 s)")
    checks.expect(re.search(MPI.killed_rank_pattern(1), out), "no message naming rank 1 as killed")
    if MPI.flavour == "openmpi":
        # mpirun sends the others SIGTERM a second before SIGKILL: each says
        # where to resume from.
        checks.expect("last checkpoint: " + log + "/checkpoint-epoch" in out,
                      "no message naming the last checkpoint")
        outcome = "job ends; mpirun names the lost rank, every rank names the last checkpoint"
    else:
        # Hydra ends the others at once: nobody speaks, the checkpoint on disk
        # is what `--resume auto` starts from.
        checks.expect(os.path.exists(checkpoint), f"{checkpoint} missing after the fault")
        outcome = ("job ends at once (Hydra kills every rank, naming the pid); the last "
                   "checkpoint is on disk for --resume auto")
    return {"code": code, "fault": fault, "job": job,
            "detect": job.first_line_after(fault, r"exited on signal|stop requested|BAD TERMINATION"),
            "outcome": outcome}


def kill_rank_async(algo, rank, what):
    def run(args, work, checks):
        log = os.path.join(work, "log")
        # The run is killed: 6 epochs only make sure it is still going at the fault.
        extra = ["--epochs", "6", "--timeout-s", "20"]
        np = 3
        job = Job(train_argv(args, log, algo, *extra), log, np)
        fault = start_training(job, checks, settle_s=2)
        job.signal_rank(rank, signal.SIGKILL)
        code = job.wait()
        out = job.output()
        checks.expect(code not in (0, None), f"exit status {code}, expected non-zero")
        checks.expect(job.ended - fault <= 30, f"took {job.ended - fault:.1f} s to end (bound 30 s)")
        checks.expect(re.search(MPI.killed_rank_pattern(rank), out),
                      f"no message naming rank {rank} as killed")
        return {"code": code, "fault": fault, "job": job,
                "detect": job.first_line_after(fault,
                                               r"exited on signal|stop requested|BAD TERMINATION"),
                "outcome": (f"job ends; mpirun names the lost {what}" if MPI.flavour == "openmpi"
                            else f"job ends at once; Hydra names the pid of the first rank to end")}
    return run


def kill_worker_recovery(algo, survives):
    """SIGKILL worker 1 under `mpirun --enable-recovery` (--timeout-s 10); with
    `survives`, --survive-worker-loss on 4 ranks (asgd/easgd: 3 workers and the
    server; gossip: 4 nodes)."""
    def run(args, work, checks):
        log = os.path.join(work, "log")
        extra = ["--epochs", "3", "--timeout-s", "10", "--checkpoint-every", "0"]
        if survives:
            extra.append("--survive-worker-loss")
        np = 4 if survives else 3
        job = Job(train_argv(args, log, algo, *extra), log, np, mpirun_flags=MPI.keep_going)
        if not MPI.survives_lost_rank:
            return refused_survival(job, checks)
        fault = start_training(job, checks, settle_s=2)
        job.signal_rank(1, signal.SIGKILL)
        code = job.wait()
        out = job.output()
        summary = job.summary()
        # mpirun exits 0 in this mode whatever happens: the outcome is in the output.
        checks.expect(code == 0, f"mpirun exit status {code} (0 expected with --enable-recovery)")
        checks.expect(job.ended - fault <= 45, f"took {job.ended - fault:.1f} s to end")
        gossip = algo.startswith("gossip")
        if survives:
            # The server (asgd/easgd) or rank 0 (gossip) decides and says so.
            checks.expect("rank 1 is lost; going on without it" in out,
                          "no message naming rank 1 as lost")
            checks.expect("finished without lost rank(s) [1]" in out,
                          "no final line naming the lost rank")
            checks.expect(summary is not None and summary.get("lost_ranks") == [1],
                          f"summary lost_ranks {summary and summary.get('lost_ranks')}")
            accuracy = summary["final_test_accuracy"] if summary else None
            checks.expect(accuracy is not None and accuracy >= 0.8, f"survivors' accuracy {accuracy}")
            outcome = ("rank 0 drops rank 1 at the deadline (no heartbeat); the 3 other nodes "
                       "finish and evaluate their average (mpirun exits 0 in this mode)"
                       if gossip else
                       "the server drops worker 1 at the deadline; the 2 other workers finish "
                       "(mpirun exits 0 in this mode)")
        else:
            accuracy = None
            checks.expect(re.search(r"timed out after 10 s .*missing: rank 1", out),
                          "no timeout message naming rank 1")
            checks.expect(summary is None, "a summary was written although the run failed")
            outcome = ("without --survive-worker-loss: ends at the deadline naming rank 1 "
                       "(mpirun exits 0 in this mode)")
        return {"code": code, "fault": fault, "job": job, "accuracy": accuracy,
                "detect": job.first_line_after(fault, r"is lost|timed out"), "outcome": outcome}
    return run


def refused_survival(job, checks):
    """--survive-worker-loss on an MPI that cannot keep ranks going: refused by
    name before training, exit 2."""
    code = job.wait()
    out = job.output()
    checks.expect(code == 2, f"exit status {code}, expected 2 (refused)")
    checks.expect("--survive-worker-loss needs an MPI whose launcher keeps the other ranks" in out,
                  "no message refusing --survive-worker-loss")
    checks.expect(job.summary() is None, "a summary was written although the run was refused")
    return {"code": code, "fault": None, "job": job, "detect": None,
            "outcome": "refused before training: this MPI's launcher ends every rank when one is "
                       "lost (exit 2)"}


def stop_worker(algo, expect_stall, stall_note=""):
    def run(args, work, checks):
        log = os.path.join(work, "log")
        stop_s = args.stop_s
        extra = ["--epochs", "2", "--timeout-s", str(stop_s + 60), "--stall-warn-s", "5"]
        if not expect_stall:
            # A checkpoint of an asynchronous method is a meeting of the workers:
            # without checkpoints nothing makes a worker wait for the stopped one.
            # The same for gossip's collective evaluations at epoch ends: evaluate at the end only.
            extra += ["--checkpoint-every", "0", "--eval-every", "100000"]
        job = Job(train_argv(args, log, algo, *extra), log, 3)
        fault = start_training(job, checks, settle_s=2)
        victim = job.rank_pid(1)
        os.kill(victim, signal.SIGSTOP)
        time.sleep(stop_s)
        os.kill(victim, signal.SIGCONT)
        code = job.wait()
        out = job.output()
        summary = job.summary()
        checks.expect(code == 0, f"exit status {code}, expected 0 after SIGCONT")
        gap = max_step_gap(log, 0)
        if expect_stall:
            checks.expect(re.search(r"stall: rank 0 has waited .*(missing: rank 1 \(silent|waiting on rank 1\))", out),
                          "no stall warning naming rank 1")
            checks.expect(gap >= stop_s * 0.8, f"worker 0 did not wait ({gap:.1f} s gap)")
        else:
            checks.expect(gap < stop_s * 0.5, f"worker 0 paused {gap:.1f} s: it did not go on")
        accuracy = summary["final_test_accuracy"] if summary else None
        checks.expect(accuracy is not None and accuracy >= 0.75, f"final accuracy {accuracy}")
        return {"code": code, "fault": fault, "job": job, "accuracy": accuracy,
                "detect": job.first_line_after(fault, r"stall:"),
                "outcome": (f"{stall_note}stalls and warns (worker 0 waited {gap:.0f} s), then continues"
                            if expect_stall else
                            f"worker 0 goes on (longest pause {gap:.1f} s); run completes")}
    return run


def stop_past_timeout(args, work, checks):
    log = os.path.join(work, "log")
    extra = ["--epochs", "6", "--timeout-s", "10", "--stall-warn-s", "4"]
    job = Job(train_argv(args, log, "allreduce", *extra), log, 3)
    fault = start_training(job, checks, settle_s=2)
    victim = job.rank_pid(2)
    os.kill(victim, signal.SIGSTOP)
    code = job.wait()
    try:
        os.kill(victim, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out = job.output()
    checks.expect(code not in (0, None), f"exit status {code}, expected non-zero")
    checks.expect(job.ended - fault <= 25, f"took {job.ended - fault:.1f} s (timeout 10 s)")
    checks.expect(re.search(r"timed out after 10 s waiting for .*missing: .*rank 2 \(silent", out),
                  "no timeout message naming rank 2")
    return {"code": code, "fault": fault, "job": job,
            "detect": job.first_line_after(fault, r"stall:"),
            "outcome": "warns at 4 s, exits at the 10 s deadline naming the rank not joined"}


def preempt(algo, sig, to_mpirun):
    def run(args, work, checks):
        log = os.path.join(work, "log")
        # Long enough (6 epochs) that the signal, 1 s into training, lands
        # mid-run even on a fast machine: CI once finished 3 epochs in 4 s and
        # the signal came after the last step.
        job = Job(train_argv(args, log, algo, "--epochs", "6"), log, 3)
        fault = start_training(job, checks, settle_s=1)
        if to_mpirun:
            os.kill(job.proc.pid, sig)
        else:
            for rank in range(3):
                job.signal_rank(rank, sig)
        code = job.wait()
        out = job.output()
        name = signal.Signals(sig).name
        checks.expect(code not in (0, None), f"exit status {code}, expected non-zero")
        checks.expect(job.ended - fault <= 30, f"took {job.ended - fault:.1f} s")
        match = re.search(r"stopped by %s after step \d+; checkpoint (\S+)" % name, out)
        resumed = None
        if checks.expect(match, f"no 'stopped by {name}' line with a checkpoint"):
            path = match.group(1)
            checks.expect(os.path.exists(path), f"{path} missing")
            # Resume on another node count (2 instead of 3): sync state moves.
            log2 = os.path.join(work, "resumed")
            again = Job(train_argv(args, log2, algo, "--epochs", "6", "--resume", path), log2, 2)
            resumed = again.wait()
            checks.expect(resumed == 0, f"resume on 2 ranks: exit status {resumed}")
            summary = again.summary()
            checks.expect(summary and summary["final_test_accuracy"] >= 0.8,
                          "resumed run's accuracy")
        return {"code": code, "fault": fault, "job": job,
                "detect": job.first_line_after(fault, r"stop requested"),
                "accuracy": (again.summary() or {}).get("final_test_accuracy") if match else None,
                "outcome": f"checkpoint at the next step, exit {code}; resumed on 2 ranks: "
                           f"exit {resumed}"}
    return run


def preempt_async(algo, sig):
    def run(args, work, checks):
        log = os.path.join(work, "log")
        job = Job(train_argv(args, log, algo, "--epochs", "6"), log, 3)
        fault = start_training(job, checks, settle_s=1)
        for rank in range(3):
            job.signal_rank(rank, sig)
        code = job.wait()
        out = job.output()
        name = signal.Signals(sig).name
        checks.expect(code == 128 + sig, f"exit status {code}, expected {128 + sig}")
        checks.expect(job.ended - fault <= 30, f"took {job.ended - fault:.1f} s")
        checks.expect(f"stopped by {name}" in out, f"no 'stopped by {name}' line")
        summary = job.summary()
        checks.expect(summary is not None and summary.get("stopped_by_signal") == name,
                      "summary.json does not record the signal")
        match = re.search(r"stopped by %s after step \d+; checkpoint (\S+)" % name, out)
        checks.expect(match and os.path.exists(match.group(1)),
                      "no checkpoint named (or it is missing)")
        return {"code": code, "fault": fault, "job": job,
                "detect": job.first_line_after(fault, r"stop requested"),
                "accuracy": summary["final_test_accuracy"] if summary else None,
                "outcome": "workers stop, a checkpoint of every rank's part is written, the run "
                           f"ends with its summary; exit {code}"}
    return run


def nan_loss(algo, policy):
    def run(args, work, checks):
        log = os.path.join(work, "log")
        np = 3 if algo != "allreduce" else 2
        job = Job(train_argv(args, log, algo, "--epochs", "2", "--inject-nan", "1:500",
                             "--nan-policy", policy), log, np)
        fault = time.monotonic()
        code = job.wait()
        out = job.output()
        summary = job.summary()
        if policy == "stop":
            checks.expect(code not in (0, None), f"exit status {code}, expected non-zero")
            checks.expect(re.search(r"loss is nan at step 500 .*on rank 1", out),
                          "no message naming the step and rank")
            if algo == "allreduce":
                checks.expect("last good checkpoint: " + log + "/checkpoint-epoch1.ckpt" in out,
                              "no message naming the last good checkpoint")
            outcome = f"stops: names step 500 and the last good checkpoint; exit {code}"
        else:
            checks.expect(code == 0, f"exit status {code}, expected 0")
            skipped = summary["skipped_steps"] if summary else None
            checks.expect(skipped is not None and skipped[1] == 1, f"skipped_steps {skipped}")
            checks.expect(summary and summary["final_test_accuracy"] >= 0.8, "accuracy")
            outcome = f"drops the update, counts it (skipped_steps {skipped}), completes"
        return {"code": code, "fault": None, "job": job,
                "accuracy": summary["final_test_accuracy"] if summary else None,
                "detect": None, "outcome": outcome}
    return run


CASES = [
    Case("allreduce-sigkill-worker", "allreduce", "SIGKILL worker 1", kill_worker_sync),
    Case("allreduce-sigstop", "allreduce", "SIGSTOP worker 1, SIGCONT after the pause",
         stop_worker("allreduce", True)),
    Case("allreduce-stopped-past-timeout", "allreduce", "SIGSTOP worker 2 for good (--timeout-s 10)",
         stop_past_timeout),
    Case("allreduce-sigterm-mpirun", "allreduce", "SIGTERM to mpirun",
         preempt("allreduce", signal.SIGTERM, True)),
    Case("allreduce-sigint-ranks", "allreduce", "SIGINT to every rank",
         preempt("allreduce", signal.SIGINT, False)),
    Case("allreduce-nan-stop", "allreduce", "NaN loss, --nan-policy stop", nan_loss("allreduce", "stop")),
    Case("allreduce-nan-skip", "allreduce", "NaN loss, --nan-policy skip", nan_loss("allreduce", "skip")),
    Case("asgd-sigkill-worker", "asgd", "SIGKILL worker 1", kill_rank_async("asgd", 1, "worker")),
    Case("asgd-sigkill-server", "asgd", "SIGKILL the server (rank 2)",
         kill_rank_async("asgd", 2, "server")),
    Case("asgd-sigkill-worker-recovery", "asgd",
         "SIGKILL worker 1 (3 workers), mpirun --enable-recovery, --survive-worker-loss",
         kill_worker_recovery("asgd", True)),
    Case("asgd-sigstop", "asgd", "SIGSTOP worker 1, SIGCONT after the pause",
         stop_worker("asgd", False)),
    Case("asgd-sigterm-ranks", "asgd", "SIGTERM to every rank", preempt_async("asgd", signal.SIGTERM)),
    Case("asgd-nan-skip", "asgd", "NaN loss, --nan-policy skip", nan_loss("asgd", "skip")),
    Case("easgd-sigkill-worker", "easgd", "SIGKILL worker 1", kill_rank_async("easgd", 1, "worker")),
    Case("easgd-sigkill-worker-recovery", "easgd",
         "SIGKILL worker 1 (3 workers), mpirun --enable-recovery, --survive-worker-loss",
         kill_worker_recovery("easgd", True)),
    Case("easgd-sigstop", "easgd", "SIGSTOP worker 1, SIGCONT after the pause",
         stop_worker("easgd", False)),
    Case("gossip-push-sigkill-worker", "gossip-push", "SIGKILL rank 1",
         kill_rank_async("gossip-push", 1, "node")),
    Case("gossip-push-sigkill-recovery", "gossip-push",
         "SIGKILL rank 1 (4 nodes), mpirun --enable-recovery, --survive-worker-loss",
         kill_worker_recovery("gossip-push", True)),
    # What the survivors of --enable-recovery do without the flag: Open MPI only
    # (Hydra has no such mode; docs/mpi.md).
    Case("gossip-push-sigkill-recovery-no-flag", "gossip-push",
         "SIGKILL rank 1, mpirun --enable-recovery", kill_worker_recovery("gossip-push", False),
         mpis=("openmpi",)),
    Case("gossip-push-sigstop", "gossip-push", "SIGSTOP rank 1, SIGCONT after the pause",
         stop_worker("gossip-push", False)),
    Case("gossip-pull-sigstop", "gossip-pull", "SIGSTOP rank 1, SIGCONT after the pause",
         stop_worker("gossip-pull", True, "a pull is a round trip: a node pulling from the stopped "
                                          "one ")),
    Case("gossip-pull-sigkill-recovery", "gossip-pull",
         "SIGKILL rank 1 (4 nodes), mpirun --enable-recovery, --survive-worker-loss",
         kill_worker_recovery("gossip-pull", True)),
    Case("gossip-pull-sigterm-ranks", "gossip-pull", "SIGTERM to every rank",
         preempt_async("gossip-pull", signal.SIGTERM)),
]


def run_case(case, args):
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix=f"fault-{case.name}-") as work:
        try:
            result = case.run(args, work, checks)
        except Exception as error:  # a failed step of the case itself
            checks.failures.append(f"{type(error).__name__}: {error}")
            result = {}
        job = result.get("job")
        if job is not None and job.ended is None:
            job.wait()
        if job is not None and result.get("code", 0) is None:
            checks.failures.append(f"HANG: still running after {HARD_LIMIT_S} s")
        fault = result.get("fault")
        row = {
            "case": case.name, "method": case.method, "fault": case.fault,
            "exit": result.get("code"),
            "detect_s": (round(result["detect"] - fault, 1)
                         if fault and result.get("detect") else None),
            "end_s": round(job.ended - fault, 1) if fault and job and job.ended else None,
            "accuracy": result.get("accuracy"),
            "outcome": result.get("outcome", ""),
            "passed": not checks.failures, "failures": checks.failures,
        }
        if checks.failures and job is not None:
            row["output_tail"] = job.output()[-3000:]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distsgd", help="the distsgd executable")
    parser.add_argument("--case", action="append", default=[], help="a case to run (repeatable)")
    parser.add_argument("--all", action="store_true", help="run every case")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("--stop-s", type=float, default=30.0, help="length of the SIGSTOP pause")
    parser.add_argument("--table", action="store_true", help="print a Markdown table at the end")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--mpi", choices=["openmpi", "mpich"], default="openmpi",
                        help="the MPI the distsgd executable is linked against")
    parser.add_argument("--mpiexec", help="that MPI's launcher (default: mpirun / mpiexec.mpich)")
    args = parser.parse_args()
    global MPI
    MPI = Mpi(args.mpi, args.mpiexec)
    cases = [c for c in CASES if args.mpi in c.mpis]
    if args.list:
        for case in cases:
            print(case.name)
        return 0
    if not args.distsgd:
        parser.error("--distsgd is required")
    args.distsgd = os.path.abspath(args.distsgd)
    names = [c.name for c in cases] if args.all else args.case
    unknown = [n for n in names if n not in {c.name for c in cases}]
    if unknown or not names:
        parser.error(f"unknown or no case: {unknown}; --list shows them")
    rows = []
    for case in (c for c in cases if c.name in names):
        row = run_case(case, args)
        rows.append(row)
        status = "PASS" if row["passed"] else "FAIL"
        print(f"{status} {case.name}: exit {row['exit']}, detected after {row['detect_s']} s, "
              f"ended after {row['end_s']} s, accuracy {row['accuracy']}: {row['outcome']}",
              flush=True)
        for failure in row["failures"]:
            print(f"  failed: {failure}")
        if not row["passed"] and "output_tail" in row:
            print("  output (tail):\n    " + row["output_tail"].replace("\n", "\n    "))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    if args.table:
        print("\n| method | fault | what happens | exit | detected (s) | ended (s) | accuracy |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            acc = f"{r['accuracy']:.3f}" if isinstance(r["accuracy"], float) else "-"
            print(f"| {r['method']} | {r['fault']} | {r['outcome']} | {r['exit']} | "
                  f"{r['detect_s'] if r['detect_s'] is not None else '-'} | "
                  f"{r['end_s'] if r['end_s'] is not None else '-'} | {acc} |")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
