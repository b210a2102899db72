#!/bin/bash
# podman kube play on the same pod as tests/bench/bench.sh, for the table in
# docs/PERFORMANCE.md. Figures, never pass/fail.
#
#   tests/bench/podman.sh TEMPLATE RUNS [BATCH]
#
# TEMPLATE is one pod's manifest with @NAME@ where its name goes. Prints one
# line per run, then "start_p50", "start_p95", "stop_p50", "stop_p95",
# "down_p50", "down_p95" and, with BATCH, "batch_start" and "batch_stop" (ms),
# and "version". Exits 2 when podman is not installed, 1 when it cannot run a
# pod here (the reason on stderr).
#
# What is timed, wall clock around one podman command each:
#  - start: `podman kube play FILE`. It returns once runc has started the infra
#    container (catatonit, like the pause container of a CRI sandbox) and the
#    pod's container; afterwards `podman inspect` must say "running". The
#    podman process itself (a Go binary that opens its database and storage
#    every time) is part of it, as kubelet-lite's parsing and relists are.
#  - stop: `podman pod rm -f -t 2 NAME`: SIGTERM, at most 2 s
#    (terminationGracePeriodSeconds), then the containers and the pod are
#    removed, as kubelet-lite does when the manifest goes. It includes podman
#    waiting for each container's conmon to leave the pod's cgroup (it
#    retries the rmdir on EBUSY); conmon first runs its exit command,
#    `podman container cleanup`, another podman process. Here that is either
#    a few hundred ms or about 3.5 s: in the slow case the cleanup process
#    sat in the conmon cgroup for 3 s, blocked on a futex in
#    /dev/shm/libpod_lock (a container lock), while `pod rm` retried the
#    rmdir (containers/common PR #858 retries for up to 5 s; podman PR #13403
#    describes the same lock order). `pod stop` then `pod rm`, the file
#    events backend or none, and cgroups=no-conmon all show it too.
#  - down: `podman kube down FILE`. podman 4.3 stops with a timeout of 0,
#    SIGKILL at once, whatever the pod says (podman issue #22397, fixed in
#    2024), so it is shown apart and never compared with a graceful stop.
#  - BATCH pods started: one `podman kube play` of a file with BATCH
#    documents; removed: one `podman pod rm -f -t 2` naming them all. podman
#    4.3 plays them one after another, and removes them one after another
#    (its debug log: the next pod's SIGTERM follows the last pod's cgroup
#    removal); within a pod it stops the containers in parallel.
#
# podman runs as root with everything under a temp dir: its storage, run
# root, tmp dir, events log and network config. What it still puts
# elsewhere is removed at the end when this run made it (below). The pods
# are hostNetwork and every container defaults to the host's network, so no
# CNI plugin is ever called.
set -u
KL_TOP=${KL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$KL_TOP/$BUILD" ;; esac

if [ $# -lt 2 ]; then
        echo "usage: $0 TEMPLATE RUNS [BATCH]" >&2
        exit 2
fi
template=$1 runs=$2 batch=${3:-0}
if ! command -v podman >/dev/null; then
        echo "podman.sh: podman is not installed (scripts/install-deps.sh bench)" >&2
        exit 2
fi

PM=$(mktemp -d "${KL_TMP:-/tmp}/podman.XXXXXX")
# Left behind by podman outside its roots, removed when this run made them:
# its lock segment, and cgroups. With cgroupfs on a cgroup v1 host podman
# makes /libpod_parent/POD-ID/... in every hierarchy but removes the pod's
# directory only from the controllers it manages, never from the named
# "systemd" and the "unified" hierarchies, nor libpod_parent itself.
shm_lock=/dev/shm/libpod_lock
own_lock=0
[ -e "$shm_lock" ] || own_lock=1
# The image library's blob-info cache, which for root always goes to
# /var/lib/containers/cache (podman 4.3 has no setting for it).
own_varlib=0
[ -e /var/lib/containers ] || own_varlib=1
cgroup_dirs() { find /sys/fs/cgroup/*/libpod_parent -type d 2>/dev/null | sort; }
cgroup_dirs >"$PM/cgroups.before"

# Root here lacks CAP_SYS_RESOURCE, so no container may get a higher rlimit
# than podman itself holds. podman 4.3 asks 1048576 for nofile and nproc by
# default, and lowers its own RLIMIT_NPROC to 32768 when it starts (seen with
# strace): runc then fails with "error setting rlimits for ready process:
# error setting rlimit type 7 (or 6): operation not permitted".
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
tmp_dir = "$PM/tmp"
[network]
network_config_dir = "$PM/net"
EOF
cat >"$PM/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM/root"
runroot = "$PM/run"
EOF
export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf

cleanup() {
        podman pod rm -a -f -t 0 >/dev/null 2>&1
        podman rm -a -f -t 0 >/dev/null 2>&1
        awk -v d="$PM/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        # deepest first; a directory still in use stays
        cgroup_dirs | comm -13 "$PM/cgroups.before" - | sort -r | while read -r d; do
                rmdir "$d" 2>/dev/null
        done
        rm -rf "$PM"
        [ $own_lock = 0 ] || rm -f "$shm_lock"
        [ $own_varlib = 0 ] || rm -rf /var/lib/containers
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); } # no fork: bash 5's clock
pct() {                                                    # P values... -> the P-th percentile (nearest rank)
        local p=$1
        shift
        printf '%s\n' "$@" | sort -n | awk -v p="$p" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'
}
manifest() { sed "s/@NAME@/$1/g" "$template"; }
fail() {
        echo "podman.sh: $*" >&2
        exit 1
}
state() { podman inspect --format '{{.State.Status}}' "$1" 2>/dev/null; }

for img in "$BUILD"/images/*.tar; do
        podman load -q -i "$img" >/dev/null 2>"$PM/load.err" || fail "podman load -i $img: $(cat "$PM/load.err")"
done

# Warm-up, untimed: the first kube play builds podman's infra image
# (localhost/podman-pause) from catatonit. It also checks that the container
# really exits on SIGTERM within the grace period (exit code 0, not 137).
manifest warm >"$PM/warm.yaml"
podman kube play "$PM/warm.yaml" >"$PM/play.out" 2>&1 || fail "podman kube play: $(cat "$PM/play.out")"
[ "$(state warm-c)" = running ] || fail "after kube play, container warm-c is '$(state warm-c)', not running"
podman pod stop -t 2 warm >/dev/null || fail "podman pod stop warm failed"
code=$(podman inspect --format '{{.State.ExitCode}}' warm-c)
[ "$code" = 0 ] || fail "warm-c exited $code on SIGTERM, expected 0"
podman pod rm warm >/dev/null || fail "podman pod rm warm failed"

start=() stop=() down=()
for i in $(seq 1 "$runs"); do
        manifest "lat$i" >"$PM/lat$i.yaml"
        t0=$(ms)
        podman kube play "$PM/lat$i.yaml" >"$PM/play.out" 2>&1 || fail "run $i: podman kube play: $(cat "$PM/play.out")"
        t1=$(ms)
        [ "$(state "lat$i-c")" = running ] || fail "run $i: container lat$i-c is '$(state "lat$i-c")', not running"
        start+=($((t1 - t0)))
        sleep 0.2
        t0=$(ms)
        podman pod rm -f -t 2 "lat$i" >/dev/null || fail "run $i: podman pod rm -f -t 2 lat$i failed"
        t1=$(ms)
        podman pod exists "lat$i" && fail "run $i: pod lat$i still exists after podman pod rm"
        stop+=($((t1 - t0)))

        podman kube play "$PM/lat$i.yaml" >"$PM/play.out" 2>&1 || fail "run $i: podman kube play: $(cat "$PM/play.out")"
        sleep 0.2
        t0=$(ms)
        podman kube down "$PM/lat$i.yaml" >/dev/null || fail "run $i: podman kube down failed"
        t1=$(ms)
        podman pod exists "lat$i" && fail "run $i: pod lat$i still exists after podman kube down"
        down+=($((t1 - t0)))
        echo "run $i: start ${start[-1]} ms, stop ${stop[-1]} ms, down ${down[-1]} ms"
done
echo "start_p50 $(pct 50 "${start[@]}") ms"
echo "start_p95 $(pct 95 "${start[@]}") ms"
echo "stop_p50 $(pct 50 "${stop[@]}") ms"
echo "stop_p95 $(pct 95 "${stop[@]}") ms"
echo "down_p50 $(pct 50 "${down[@]}") ms"
echo "down_p95 $(pct 95 "${down[@]}") ms"

if [ "$batch" -gt 0 ]; then
        names=()
        for i in $(seq 1 "$batch"); do
                [ "$i" -gt 1 ] && echo "---"
                manifest "b$i"
                names+=("b$i")
        done >"$PM/batch.yaml"
        t0=$(ms)
        podman kube play "$PM/batch.yaml" >"$PM/play.out" 2>&1 || fail "batch: podman kube play: $(cat "$PM/play.out")"
        t1=$(ms)
        n=$(podman ps --filter status=running --format '{{.Names}}' | grep -cE '^b[0-9]+-c$')
        [ "$n" = "$batch" ] || fail "batch: $n of $batch containers running after kube play"
        echo "batch_start $((t1 - t0)) ms"
        sleep 1
        t0=$(ms)
        podman pod rm -f -t 2 "${names[@]}" >/dev/null || fail "batch: podman pod rm failed"
        t1=$(ms)
        n=$(podman pod ps -q | wc -l)
        [ "$n" = 0 ] || fail "batch: $n pods left after podman pod rm"
        echo "batch_stop $((t1 - t0)) ms"
fi
echo "version $(podman version --format '{{.Client.Version}}')"
