#!/bin/bash
# The README's demo command: a private containerd, kubelet-lite and the sample
# manifests; it prints the pods as a table and, when stopped, leaves nothing
# behind (no containers, processes, mounts or directories).
#
# Four rounds, each started and stopped a different way, each with its own
# work dir (KL_DEMO_DIR), which is how its processes are told from other
# containerd instances on the machine:
#   script   scripts/demo directly, stopped with SIGTERM to it
#   make     `make demo`, stopped with SIGTERM to make's pid only
#   timeout  `timeout 600 make demo`, stopped by timeout(1), which sends SIGTERM
#            to make and then to make's whole process group
#   sigkill  `make demo`, make killed with SIGKILL: the demo notices that its
#            parent is gone and cleans up by itself within a few seconds
# Ctrl-C itself cannot be tested here: a background job of a non-interactive
# shell starts with SIGINT ignored, which no shell can trap. The demo treats
# INT, TERM and HUP alike.
#
# "Running" means what kubelet-lite's /pods says of the containers: every
# container of both sample pods has state.running, ready true and no restart,
# still so a few seconds later. The pod phase is not enough: a crash-looping
# pod stays in phase Running (and testbox-http, a hostNetwork server on port
# 8080, crash-loops when something else holds that port, yet its readiness
# probe may then reach the other server).
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
export BUILD
rounds=${KL_DEMO_ROUNDS:-script make timeout sigkill}
passed=0 failed=0
check() { local w=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok - $w"; else failed=$((failed + 1)); echo "FAIL - $w"; fi; }

# Both sample pods (manifests/examples), every container running and ready.
all_ready() { # PORT
        local pods
        # jq 1.6 -e exits 0 on empty input: no answer must not pass.
        pods=$(curl -fs --max-time 2 "http://127.0.0.1:$1/pods" 2>/dev/null) && [ -n "$pods" ] &&
                jq -e '
          (.items | length) == 2 and all(.items[];
            (.status.containerStatuses // []) as $c
            | ($c | length) == (.spec.containers | length)
            and all($c[]; .state.running != null and .ready == true and .restartCount == 0))' \
                        <<<"$pods" >/dev/null 2>&1
}

# The pids of the demo's containers (pause and workload), from its containerd.
task_pids() { # SOCK
        ctr --address "$1" -n k8s.io tasks ls 2>/dev/null | awk 'NR > 1 && $3 == "RUNNING" { print $2 }'
}

# What is left of a demo: processes naming its dir (containerd, shims,
# kubelet-lite), container processes still alive, mounts, the dir.
leftovers() { # DIR PIDS...
        local dir=$1 p; shift
        pgrep -af "$dir/" | grep -v "pgrep -af"
        for p in "$@"; do
                [ -d "/proc/$p" ] && echo "container process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
        done
        grep "$dir" /proc/self/mounts
        [ -e "$dir" ] && echo "dir $dir"
        return 0
}

# The demo's containerd and kubelet-lite each lead a session: a signal to the
# demo's process group cannot reach them.
own_sessions() { # DIR
        local p n=0
        for p in $(pgrep -f "$1/(containerd/config.toml|kubelet-lite.yaml)"); do
                [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] || return 1
                n=$((n + 1))
        done
        [ $n = 2 ]
}

round() { # script|make|timeout
        local how=$1 dir out port hport pid rc pids sock left l
        dir=$(mktemp -d "/tmp/kl-demo-$how.XXXXXX")
        rmdir "$dir"
        out=$(mktemp)
        port=$((20000 + RANDOM % 6000))
        hport=$((26000 + RANDOM % 6000))
        export KL_DEMO_DIR=$dir KL_DEMO_PORT=$port KL_DEMO_HEALTHZ_PORT=$hport
        case $how in
        script) scripts/demo >"$out" 2>&1 & ;;
        make | sigkill) make --no-print-directory BUILD="$BUILD" demo >"$out" 2>&1 & ;;
        timeout) timeout 600 make --no-print-directory BUILD="$BUILD" demo >"$out" 2>&1 & ;;
        esac
        pid=$!
        unset KL_DEMO_DIR KL_DEMO_PORT KL_DEMO_HEALTHZ_PORT
        echo "# $how: pid $pid, dir $dir, port $port"
        for _ in $(seq 1 180); do
                # The table comes every 3 s: wait for one as well.
                all_ready "$port" && grep -q "^NAME *PHASE *READY *RESTARTS" "$out" && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
        done
        check "$how: both sample pods have every container running and ready (/pods)" all_ready "$port"
        # Past a readiness period (5 s) and a relist: a crash loop shows by then.
        sleep 6
        check "$how: ...still so 6 s later, and none restarted" all_ready "$port"
        check "$how: the demo says kubelet-lite runs and how to add and remove a manifest" \
                grep -q "Add a pod:" "$out"
        check "$how: the table has its header" grep -q "^NAME *PHASE *READY *RESTARTS" "$out"
        sock="$dir/containerd/containerd.sock"
        check "$how: the demo's containerd is private (socket under its work dir)" test -S "$sock"
        mapfile -t pids < <(task_pids "$sock")
        check "$how: containerd runs the pods' containers (${#pids[@]} tasks)" test "${#pids[@]}" -ge 4
        check "$how: containerd and kubelet-lite run in sessions of their own" own_sessions "$dir"

        if [ "$how" = sigkill ]; then
                kill -KILL "$pid"
        else
                kill -TERM "$pid"
        fi
        # make waits for the demo's cleanup before it dies of the signal.
        rc=0
        wait "$pid" || rc=$?
        case $how in
        script) check "$how: SIGTERM stops it cleanly (exit $rc)" test "$rc" = 0 ;;
        make | timeout) check "$how: make returned ($rc) once the demo had stopped" grep -q "^Done:" "$out" ;;
        sigkill)
                for _ in $(seq 1 100); do
                        grep -q "^Done:" "$out" && break
                        sleep 0.2
                done
                check "$how: the demo saw its parent go and stopped by itself" \
                        grep -q "parent (pid $pid) is gone" "$out"
                ;;
        esac
        check "$how: it says everything is gone" grep -q "^Done:" "$out"
        # Nothing may be left, not even a while later.
        for _ in $(seq 1 20); do
                left=$(leftovers "$dir" "${pids[@]}")
                [ -n "$left" ] && break
                sleep 0.1
        done
        check "$how: nothing left (containerd, shims, kubelet-lite, containers, mounts, dir)" test -z "$left"
        [ -n "$left" ] && while IFS= read -r l; do echo "#   left: $l"; done <<<"$left"
        if [ "$failed" != 0 ]; then
                sed 's/^/#   demo: /' "$out" | tail -n 30
        fi
        rm -f "$out"
}

if command -v ss >/dev/null && [ -n "$(ss -Hltn 'sport = :8080' 2>/dev/null)" ]; then
        echo "# note: port 8080 is already taken ($(ss -Hltnp 'sport = :8080' | grep -o 'users:.*')):"
        echo "# the sample pod testbox-http (hostNetwork, port 8080) cannot run beside it"
fi
for how in $rounds; do
        round "$how"
done
check "the host's containerd socket was never created" \
        bash -c "[ -S /run/containerd/containerd.sock ] && [ -n \"\$(pgrep -f 'containerd --config /etc')\" ] || [ ! -S /run/containerd/containerd.sock ]"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
