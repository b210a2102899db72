#!/bin/bash
# A hung or vanished containerd never blocks the event loop: /healthz, /pods
# and /node keep answering while containerd is stopped with SIGSTOP or killed
# with its socket left behind; /healthz/syncloop and the node's Ready
# condition report the runtime as down (upstream: syncLoop skips iterations
# while runtimeState has errors, and the node goes NotReady); when it comes
# back everything recovers and nothing is restarted.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
cat >"$KL_MANIFESTS/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: localhost/kubelet-lite/busybox:1.0, command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]}
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 40 "pod Running" pod_is web-testnode .status.phase Running
cid=$(pod_field web-testnode '.status.containerStatuses[0].containerID')
H="http://127.0.0.1:$KL_HEALTHZ_PORT"

# probe_for SECONDS: /healthz every 0.1 s with a 2 s limit; prints "answered total slowest_ms"
probe_for() {
        local end=$((SECONDS + $1)) n=0 okn=0 worst=0 t
        while [ $SECONDS -lt $end ]; do
                n=$((n + 1))
                t=$(curl -s -o /dev/null -m 2 -w '%{http_code} %{time_total}' "$H/healthz")
                if [ "${t%% *}" = 200 ]; then
                        okn=$((okn + 1))
                        ms=$(awk -v s="${t#* }" 'BEGIN{printf "%d", s*1000}')
                        [ "$ms" -gt "$worst" ] && worst=$ms
                fi
                sleep 0.1
        done
        echo "$okn $n $worst"
}
node_ready() { curl -fs "http://127.0.0.1:$KL_RO_PORT/node" | jq -r '.status.conditions[] | select(.type=="Ready") | .status'; }

# 1. containerd hangs (SIGSTOP) for 15 s
kill -STOP "$KL_CONTAINERD_PID"
out=$(probe_for 13)
echo "# /healthz while containerd is stopped: $out (answered, probes, slowest ms)"
set -- $out
check "/healthz answered every probe while containerd hung" test "$1" = "$2"
check "/pods still answers" bash -c "curl -fs -m 2 http://127.0.0.1:$KL_RO_PORT/pods | jq -e '.items | length == 1' >/dev/null"
check "/healthz/syncloop reports the runtime" bash -c "curl -s -m 2 $H/healthz/syncloop | grep -q 'container runtime is down'"
check "node Ready is False" test "$(node_ready)" = False
check "...saying why" bash -c "curl -fs -m 2 http://127.0.0.1:$KL_RO_PORT/node | jq -r '.status.conditions[] | select(.type==\"Ready\") | .message' | grep -q 'no answer from the container runtime'"
kill -CONT "$KL_CONTAINERD_PID"
wait_for 40 "after SIGCONT /healthz/syncloop is ok again" bash -c "[ \"\$(curl -s -m 2 $H/healthz/syncloop)\" = ok ]"
check "node Ready is True again" test "$(node_ready)" = True
check "the container was not restarted" pod_is web-testnode '.status.containerStatuses[0].containerID' "$cid"

# 2. containerd killed, its socket file left behind
kill -KILL "$KL_CONTAINERD_PID"; wait "$KL_CONTAINERD_PID" 2>/dev/null
out=$(probe_for 5)
echo "# /healthz while containerd is gone (socket left): $out"
set -- $out
check "/healthz answered every probe while containerd was gone" test "$1" = "$2"
wait_for 15 "/healthz/syncloop reports the runtime down" bash -c "curl -s -m 2 $H/healthz/syncloop | grep -q 'container runtime is down'"
kl_containerd_restart
wait_for 40 "reconnects: syncloop ok" bash -c "[ \"\$(curl -s -m 2 $H/healthz/syncloop)\" = ok ]"
wait_for 30 "pod Running after containerd came back" pod_is web-testnode '.status.containerStatuses[0].state.running != null' true
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
