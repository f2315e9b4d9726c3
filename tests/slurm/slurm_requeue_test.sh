#!/usr/bin/env bash
# A real one-node Slurm (Debian's slurm-wlm: slurmctld and slurmd, started here
# on ports of their own and stopped at the end) runs examples/slurm/train.sbatch:
# the job is preempted (SIGTERM to the batch script, as --signal=B:TERM@60
# sends it), the ranks write a checkpoint, the script requeues the job, the
# second start resumes from that checkpoint (--resume auto) and finishes. Its
# final test loss must equal, to the last digit, that of the same run under
# srun without preemption (all-reduce is deterministic).
#   tests/slurm/slurm_requeue_test.sh DISTSGD
# Exit 0: passed; 1: failed (says what); 77: skipped (not root, or no Slurm).
set -euo pipefail

distsgd=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
sbatch_script=$root/examples/slurm/train.sbatch
fail() {
  echo "FAIL: $*" >&2
  [ -f "${work:-}/slurmctld.log" ] && { echo "--- slurmctld's log, last lines" >&2; tail -15 "$work/slurmctld.log" >&2; }
  exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "skipped: slurmd must run as root here"; exit 77; }
command -v slurmctld > /dev/null && command -v slurmd > /dev/null ||
  { echo "skipped: no slurmctld/slurmd (Debian: slurm-wlm)"; exit 77; }

work=$(mktemp -d /tmp/distsgd-slurm.XXXXXX)
host=$(hostname -s)
# Two free ports of our own, so a Slurm already on this host is not touched.
port=$((20000 + ($$ % 4000) * 2))
while ss -ltn | grep -qE ":($port|$((port + 1)))\b"; do port=$((port + 2)); done

stop_slurm() {
  export SLURM_CONF=$work/slurm.conf
  scancel --full --signal=KILL --user=root > /dev/null 2>&1 || true
  for daemon in slurmd slurmctld; do
    [ -f "$work/$daemon.pid" ] && kill "$(cat "$work/$daemon.pid")" 2> /dev/null || true
  done
  sleep 1
  rm -rf "$work"
}
trap stop_slurm EXIT

mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" << EOF
ClusterName=distsgd-test
SlurmctldHost=$host
AuthType=auth/none
CredType=cred/none
# A requeued job may start again once its old credential has expired (120 s by
# default): 10 s here, so the test need not wait two minutes.
AuthInfo=cred_expire=10
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobRequeue=1
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF=$work/slurm.conf

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  for ((i = 0; i < seconds * 5; ++i)); do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$what: not within $seconds s (slurmctld log: $(tail -3 "$work/slurmctld.log" 2> /dev/null))"
}
node_idle() { sinfo -h -N -o %t | grep -q idle; }
# A job's state, from slurmctld's record (kept MinJobAge = 300 s after the end);
# fails when slurmctld does not answer, so a busy moment is not taken for an end.
job_state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
job_ended() { job_state "$1" | grep -qE '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL)$'; }
job_running() { job_state "$1" | grep -q '^RUNNING$'; }

slurmctld -c -i || fail "slurmctld did not start"
wait_for 30 "slurmctld answering" scontrol ping
slurmd || fail "slurmd did not start"
wait_for 60 "the node idle" node_idle
echo "slurm: one node ($host, $(nproc) CPUs) up on ports $port-$((port + 1))"

train=(--algo allreduce --model mlp --epochs 3 --batch-size 64 --seed 3 --checkpoint-every 1
       --quiet)
submit() {  # LOG_DIR OUTPUT: the job's id
  DISTSGD=$distsgd LOG_DIR=$1 sbatch --parsable --ntasks=2 --output="$2" "$sbatch_script" \
    "${train[@]}"
}

# The reference: the same job, not preempted.
reference=$(submit "$work/reference" "$work/reference.out")
wait_for 300 "the reference job finished" job_ended "$reference"
grep -q "ended with status 0" "$work/reference.out" ||
  fail "the reference job failed: $(tail -5 "$work/reference.out")"

# The preempted job: SIGTERM to the batch script once the first epoch's
# checkpoint is there, mid-way through the second epoch.
job=$(submit "$work/run" "$work/run.out")
wait_for 120 "job $job running" job_running "$job"
wait_for 120 "job $job's first checkpoint" test -f "$work/run/checkpoint-epoch1.ckpt"
scancel --batch --signal=TERM "$job"
wait_for 120 "job $job requeued" grep -q "requeueing job" "$work/run.out"
# A requeued job waits (BeginTime) until its old credential expires: 10 s here.
# Starting it sooner (scontrol update StartTime=now) failed: "Killing
# non-startable batch job: Job credential revoked".
wait_for 120 "job $job started a second time" grep -q "start 2," "$work/run.out"
# The job's own last line, then slurmctld's record of the end.
ended_twice() { [ "$(grep -c "distsgd ended with status" "$work/run.out")" -ge 2 ]; }
wait_for 300 "job $job's second start ended" ended_twice
wait_for 60 "job $job finished" job_ended "$job"
echo "--- job $job's output"
cat "$work/run.out"
echo "---"

grep -q "start 2," "$work/run.out" || fail "job $job did not start a second time"
grep -q "stopped by SIGTERM after step" "$work/run.out" || fail "the ranks did not stop on SIGTERM"
grep -qE "resume auto: resuming from .*/checkpoint-step[0-9]+\.ckpt" "$work/run.out" ||
  fail "the second start did not resume from the step checkpoint"
grep -q "ended with status 0" "$work/run.out" || fail "the second start did not finish"

read_summary() {  # DIR KEY
  /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
    "$1/summary.json" "$2"
}
resumed_from=$(/usr/bin/python3 -c \
  "import json,sys; print(json.load(open(sys.argv[1]))['config']['resume'])" "$work/run/summary.json")
[[ $resumed_from == */checkpoint-step*.ckpt ]] || fail "summary.json: resumed from '$resumed_from'"
expected=$(read_summary "$work/reference" final_test_loss)
got=$(read_summary "$work/run" final_test_loss)
[ "$expected" = "$got" ] || fail "final test loss $got after preemption, $expected without"
echo "PASS: preempted, requeued, resumed from $(basename "$resumed_from"), finished;" \
  "final test loss $got equals the run without preemption"
