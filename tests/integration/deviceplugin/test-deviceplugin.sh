#!/bin/bash
# Device plugins end to end: kubelet-lite-device-plugin serving device nodes
# made for the test (char devices 1:3, like /dev/null) to kubelet-lite over
# the v1beta1 API, against a private containerd. A pod gets its device node;
# a pod asking for more than exist is rejected (OutOf<resource>) and admitted
# when a node appears; the plugin killed and restarted registers again;
# kubelet-lite restarted keeps a running pod's device (checkpoint) and does
# not give it to another pod.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
RES=kubelet-lite.io/serial
DEV=$KL_TMP/dev
DPDIR=$KL_ROOT/device-plugins
DP_PID=""
DP_BIN=${DP_BIN:-$BUILD/kubelet-lite-device-plugin}
mkdir -p "$DEV"
mknod "$DEV/ttyKL0" c 1 3
mknod "$DEV/ttyKL1" c 1 3

plugin_start() {
        "$DP_BIN" --device "$RES=$DEV/ttyKL*" --dir "$DPDIR" --scan-interval 0.3 \
                >>"$KL_TMP/plugin.log" 2>&1 &
        DP_PID=$!
}
plugin_stop() { [ -n "$DP_PID" ] && kill "$DP_PID" 2>/dev/null && wait "$DP_PID" 2>/dev/null; DP_PID=""; }
trap 'plugin_stop; kl_cleanup' EXIT

node_res() { # capacity|allocatable
        curl -fs "http://127.0.0.1:$KL_RO_PORT/node" | jq -r --arg r "$RES" ".status.$1[\$r] // \"none\""
}
node_is() { [ "$(node_res "$1")" = "$2" ]; }

pod() { # name count
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: localhost/kubelet-lite/busybox:1.0
    command: [sh, -c, "ls $DEV; trap 'exit 0' TERM; while true; do sleep 1; done"]
    resources:
      limits: {$RES: $2}
YAML
}
# what the container saw in the device dir (its first log lines)
seen() { # pod
        local uid
        uid=$(pod_field "$1-testnode" .metadata.uid)
        cut -d' ' -f4- "$KL_LOGS/default_$1-testnode_$uid/c/0.log" 2>/dev/null | sort | tr '\n' ' '
}

seen_some() { [ -n "$(seen "$1")" ]; }

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
check "kubelet-lite serves Registration on <root-dir>/device-plugins/kubelet.sock" test -S "$DPDIR/kubelet.sock"
plugin_start
wait_for 10 "the plugin registers: node capacity $RES = 2" node_is capacity 2
check "...and allocatable 2" node_is allocatable 2
check "the plugin serves on $DPDIR/kubelet-lite.io_serial.sock" test -S "$DPDIR/kubelet-lite.io_serial.sock"
check "/metrics: kubelet_device_plugin_registration_total counts it" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | grep -qx 'kubelet_device_plugin_registration_total{resource_name=\"$RES\"} 1'"
check "/metrics: capacity and allocatable gauges" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | grep -qx 'kubelet_lite_node_extended_resource_allocatable{resource=\"$RES\"} 2'"

pod one 1 >"$KL_MANIFESTS/one.yaml"
wait_for 30 "pod one (1 device) is Running" pod_is one-testnode .status.phase Running
wait_for 5 "...its container listed its device dir" seen_some one
s=$(seen one)
check "...the container's $DEV holds only ttyKL0 (got: $s)" test "$s" = "ttyKL0 "
uid1=$(pod_field one-testnode .metadata.uid)
check "/metrics: the Allocate call was timed" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | grep -qx 'kubelet_device_plugin_alloc_duration_seconds_count{resource_name=\"$RES\"} 1'"
check "...the checkpoint records it" bash -c "jq -e --arg u '$uid1' '.Data.PodDeviceEntries[] | select(.PodUID==\$u and .ContainerName==\"c\" and .ResourceName==\"$RES\" and .DeviceIDs[\"-1\"]==[\"ttyKL0\"] and (.AllocResp|length)>0)' '$DPDIR/kubelet_internal_checkpoint' >/dev/null"
check "...with the registered devices" bash -c "jq -e '.Data.RegisteredDevices[\"$RES\"] == [\"ttyKL0\",\"ttyKL1\"] and (.Checksum|type)==\"number\"' '$DPDIR/kubelet_internal_checkpoint' >/dev/null"

pod two 2 >"$KL_MANIFESTS/two.yaml"
wait_for 15 "pod two asks for 2 of the 1 left: rejected, OutOf$RES" pod_is two-testnode .status.reason "OutOf$RES"
msg=$(pod_field two-testnode .status.message)
check "...with the predicate's message ($msg)" matches "$msg" "Node didn't have enough resource: $RES, requested: 2, used: 1, capacity: 2"
check "...no container was created for it" test "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==two-testnode' | wc -l)" = 0
mknod "$DEV/ttyKL2" c 1 3
wait_for 10 "a third node appears: capacity 3" node_is capacity 3
wait_for 30 "...and pod two is admitted and Running" pod_is two-testnode .status.phase Running
wait_for 5 "...its container listed its device dir" seen_some two
check "...seeing ttyKL1 and ttyKL2 ($(seen two))" test "$(seen two)" = "ttyKL1 ttyKL2 "

# The plugin goes away: its devices are unhealthy (allocatable 0, capacity kept).
plugin_stop
wait_for 10 "plugin killed: allocatable 0" node_is allocatable 0
check "...capacity still 3 (upstream keeps the resource for a grace period)" node_is capacity 3
check "...running pods keep running" pod_is one-testnode .status.phase Running
plugin_start
wait_for 10 "plugin restarted: it registers again, allocatable 3" node_is allocatable 3
check "the log says it registered twice" test "$(grep -c "device plugin '$RES' registered" "$KL_TMP/kubelet-lite.log")" -ge 2

# kubelet-lite restarts: the plugin sees kubelet.sock recreated and registers
# again; pod one keeps ttyKL0 (checkpoint), so pod three does not fit.
cid1=$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==one-testnode')
kl_stop TERM
kl_start || { not_ok "kubelet-lite restarts"; kl_finish; }
wait_for 10 "after the restart the plugin registers again: allocatable 3" node_is allocatable 3
check "...pod one still runs in the same container" test "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==one-testnode')" = "$cid1"
check "...the checkpoint still gives ttyKL0 to pod one" bash -c "jq -e --arg u '$uid1' '.Data.PodDeviceEntries[] | select(.PodUID==\$u and .DeviceIDs[\"-1\"]==[\"ttyKL0\"])' '$DPDIR/kubelet_internal_checkpoint' >/dev/null"
pod three 1 >"$KL_MANIFESTS/three.yaml"
wait_for 15 "pod three (1) finds all 3 devices held: rejected OutOf$RES" pod_is three-testnode .status.reason "OutOf$RES"
rm "$KL_MANIFESTS/one.yaml"
wait_for 30 "pod one removed: pod three is admitted and Running" pod_is three-testnode .status.phase Running
wait_for 5 "...its container listed its device dir" seen_some three
check "...with the device pod one gave back ($(seen three))" test "$(seen three)" = "ttyKL0 "
check "...and the checkpoint no longer has pod one" bash -c "! jq -e --arg u '$uid1' '.Data.PodDeviceEntries[] | select(.PodUID==\$u)' '$DPDIR/kubelet_internal_checkpoint' >/dev/null"

plugin_stop
kl_finish
