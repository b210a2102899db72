# shellcheck shell=sh
# Default guest script of `board/vm/run --manifests DIR` without --script: let
# the pods settle, then show what kubelet-lite made of them.
#   BOARD_SETTLE  seconds to wait for every pod to settle (default 60)
# Exit status: 0 when every pod is Running (all containers ready) or Succeeded.
. "$BOARD_LIB"
settle=${BOARD_SETTLE:-60}

# Settled: no pod Pending, and every container either running or terminated.
settled='[.items[]? | select(.status.phase == "Pending" or
        ([.status.containerStatuses[]? | select(.state.waiting != null)] | length > 0))] | length == 0'
end=$(($(date +%s) + settle))
while :; do
        [ "$(board_pods | jq -r "$settled" 2>/dev/null)" = true ] && break
        if [ "$(date +%s)" -ge "$end" ]; then
                echo "(pods still settling after ${settle}s)"
                break
        fi
        sleep 1
done

echo "== pods (from http://127.0.0.1:10255/pods)"
board_pods | jq -r '
        ["NAME", "PHASE", "QOS", "READY", "RESTARTS", "REASON"],
        (.items[]? | [.metadata.name, .status.phase, (.status.qosClass // "-"),
                "\([.status.containerStatuses[]? | select(.ready)] | length)/\((.spec.containers // .status.containerStatuses // []) | length)",
                ([.status.containerStatuses[]?.restartCount] | add // 0),
                (.status.reason // ([.status.containerStatuses[]? | (.state.waiting.reason // .state.terminated.reason)
                        | select(. != null)] | first) // "-")])
        | @tsv' 2>/dev/null | awk -F'\t' '{ printf "%-28s %-10s %-11s %-6s %-9s %s\n", $1, $2, $3, $4, $5, $6 }'

echo "== pod cgroups"
for uid in $(board_pods | jq -r '.items[]?.metadata.uid' 2>/dev/null); do
        name=$(board_pods | jq -r --arg u "$uid" '.items[] | select(.metadata.uid == $u) | .metadata.name')
        cg=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "pod$uid" 2>/dev/null | head -n1)
        [ -n "$cg" ] || { echo "$name: no cgroup"; continue; }
        printf '%s: %s\n    memory.max=%s cpu.max=%s cpu.weight=%s pids.max=%s memory.current=%s\n' \
                "$name" "${cg#/sys/fs/cgroup}" "$(cat "$cg/memory.max")" "$(cat "$cg/cpu.max")" \
                "$(cat "$cg/cpu.weight")" "$(cat "$cg/pids.max")" "$(cat "$cg/memory.current")"
done

echo "== kubelet-lite warnings and errors"
grep -E 'level=(warning|error)' "$BOARD_KL_LOG" | cut -d' ' -f2- | tail -n 20

echo "== container logs (last 5 lines each)"
for f in $(find /var/log/pods -type f -name '*.log' 2>/dev/null | sort); do
        echo "-- ${f#/var/log/pods/}"
        tail -n 5 "$f"
done

[ "$(board_pods | jq -r '[.items[]? | select(.status.phase != "Succeeded" and
        (.status.phase != "Running" or ([.status.containerStatuses[]? | select(.ready | not)] | length > 0)))]
        | length == 0' 2>/dev/null)" = true ]
