#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests and for trying --launcher slurm:
#   scripts/slurm-local.sh up|down|status
# Debian's slurm-wlm + munge (installed with apt-get when missing; needs root). Two slurmd
# on this host: node `cpu-node` (no GRES) in partition `cpu` (the default) and node
# `gpu-node` with a `gpu` GRES backed by /dev/null (type a100) in partition `gpu`, so a job
# that asks for a GPU schedules without one, and one that asks for it on `cpu` is rejected
# as on a CPU-only cluster. Config, state, spool and logs live under SLURM_LOCAL_DIR
# (default: $TMPDIR/macformer-slurm, TMPDIR defaulting to /tmp); clients need
# SLURM_CONF=$SLURM_LOCAL_DIR/slurm.conf (printed by `up`). Idempotent: `up` on a running
# cluster only says so; `down` on a stopped one does nothing.
set -euo pipefail

DIR="${SLURM_LOCAL_DIR:-${TMPDIR:-/tmp}/macformer-slurm}"
CONF="$DIR/slurm.conf"
HOST="$(hostname -s)"
NODES=(cpu-node gpu-node)
CPUS=4            # per node: more than this machine has (SlurmdParameters=config_overrides)
MEMORY_MB=8192    # per node
export SLURM_CONF="$CONF"

say() { echo "slurm-local: $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }

alive() {  # alive PIDFILE: the process it names is running
    [[ -s "$1" ]] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null
}

daemons_alive() {
    alive "$DIR/run/munged.pid" && alive "$DIR/run/slurmctld.pid" || return 1
    for node in "${NODES[@]}"; do alive "$DIR/run/slurmd-$node.pid" || return 1; done
}

install_packages() {
    command -v sbatch >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && return 0
    command -v apt-get >/dev/null || die "cannot start: slurm-wlm and munge are not installed and there is no apt-get here (install SLURM 22.05+ and munge by hand)"
    say "installing slurm-wlm and munge (apt-get)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge; } \
        >"$DIR/log/apt-get.log" 2>&1 || die "cannot start: apt-get install slurm-wlm munge failed; see $DIR/log/apt-get.log"
}

write_config() {
    cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: a one-node test cluster (two slurmd on $HOST).
ClusterName=macformer-local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again (default 120 s).
AuthInfo=socket=$DIR/munge/munge.socket,cred_expire=10
SlurmctldPort=16817
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SlurmdParameters=config_overrides
ReturnToService=2
GresTypes=gpu
# Finished jobs stay visible to squeue/scontrol for 5 minutes (there is no accounting).
MinJobAge=300
# A job that does not say --mem gets 1 GB per CPU (not the whole node, so jobs share it).
DefMemPerCPU=1024
# The scheduler looks every 5 s (a requeued job starts soon after its begin time).
SchedulerParameters=bf_interval=5,sched_interval=5
NodeName=cpu-node NodeHostname=$HOST NodeAddr=127.0.0.1 Port=16818 CPUs=$CPUS RealMemory=$MEMORY_MB Feature=cpu State=UNKNOWN
NodeName=gpu-node NodeHostname=$HOST NodeAddr=127.0.0.1 Port=16819 CPUs=$CPUS RealMemory=$MEMORY_MB Gres=gpu:a100:1 Feature=a100 State=UNKNOWN
PartitionName=cpu Nodes=cpu-node Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=gpu-node MaxTime=INFINITE State=UP
EOF
    echo "NodeName=gpu-node Name=gpu Type=a100 File=/dev/null" >"$DIR/gres.conf"
}

start_munge() {
    [[ -s "$DIR/munge/munge.key" ]] || { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=128 count=1 status=none; chmod 600 "$DIR/munge/munge.key"; }
    munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed" >>"$DIR/log/munged.log" 2>&1 \
        || die "cannot start: munged failed; see $DIR/log/munged.log"
}

wait_idle() {  # until both nodes take jobs (30 s at most)
    for _ in $(seq 60); do
        [[ "$(sinfo -h -N -o '%T' 2>/dev/null | grep -c -E '^(idle|mixed|allocated)')" == "${#NODES[@]}" ]] && return 0
        sleep 0.5
    done
    die "cannot start: the nodes did not become idle in 30 s; see $DIR/log/"
}

hosts_entry() {  # the node names resolve to this host (DDP's rendezvous address is the first node's name)
    grep -q "macformer-slurm-local" /etc/hosts 2>/dev/null \
        || echo "127.0.0.1 ${NODES[*]}  # macformer-slurm-local" >>/etc/hosts
}

up() {
    if daemons_alive && sinfo -h >/dev/null 2>&1; then
        say "already up ($DIR); export SLURM_CONF=$CONF"
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || die "cannot start: SlurmUser=root needs root (this is uid $(id -u))"
    down quiet
    mkdir -p "$DIR"/{state,spool,run,log,munge}
    install_packages
    write_config
    hosts_entry
    start_munge
    slurmctld -c -f "$CONF" >>"$DIR/log/slurmctld.log" 2>&1 || die "cannot start: slurmctld failed; see $DIR/log/slurmctld.log"
    for node in "${NODES[@]}"; do
        mkdir -p "$DIR/spool/$node"
        slurmd -N "$node" -f "$CONF" >>"$DIR/log/slurmd-$node.log" 2>&1 \
            || die "cannot start: slurmd $node failed; see $DIR/log/slurmd-$node.log"
    done
    wait_idle
    say "up ($DIR): partitions cpu (default) and gpu (gpu:a100:1 on /dev/null); export SLURM_CONF=$CONF"
}

down() {
    local pidfile
    if alive "$DIR/run/slurmctld.pid"; then  # end the jobs first: their slurmstepd needs slurmd
        squeue -h -o %A 2>/dev/null | sort -u | xargs -r scancel 2>/dev/null || true
        for _ in $(seq 100); do [[ -z "$(squeue -h -o %A 2>/dev/null)" ]] && break; sleep 0.2; done
    fi
    for pidfile in "$DIR"/run/slurmd-*.pid "$DIR/run/slurmctld.pid" "$DIR/run/munged.pid"; do
        if alive "$pidfile"; then
            kill "$(cat "$pidfile")"
            for _ in $(seq 50); do alive "$pidfile" || break; sleep 0.2; done
        fi
        rm -f "$pidfile"
    done
    [[ "${1:-}" == quiet ]] || say "down ($DIR)"
}

status() {
    if daemons_alive && sinfo -h >/dev/null 2>&1; then
        say "up ($DIR); export SLURM_CONF=$CONF"
        sinfo
    else
        say "down ($DIR)"
        return 1
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: scripts/slurm-local.sh up|down|status (SLURM_LOCAL_DIR: where it lives, default \$TMPDIR/macformer-slurm)" >&2; exit 2 ;;
esac
