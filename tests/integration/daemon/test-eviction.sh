#!/bin/bash
# Eviction on a real full filesystem: root-dir and podLogsDir on a small tmpfs,
# a pod filling its emptyDir pushes nodefs.available under evictionHard; the
# pod using the most disk is evicted (static pods too, unlike upstream), a
# critical pod never is, DiskPressure shows, and the evicted pod is admitted
# again once the pressure has been gone for evictionPressureTransitionPeriod.
# (Memory pressure on a real cgroup v2 kernel is tested in the board VM.)
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
disk=$KL_TMP/disk
mkdir -p "$disk" && mount -t tmpfs -o size=64m tmpfs "$disk"
KL_ROOT=$disk/root
KL_LOGS=$disk/pods
kl_config <<'YAML'
evictionHard: {nodefs.available: 40%}
evictionPressureTransitionPeriod: 6s
YAML
pod() { # name command [priorityClassName]
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  ${3:+priorityClassName: $3}
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: $2
    volumeMounts: [{name: data, mountPath: /data}]
YAML
}
pod quiet '["/kltest", "sleep"]' >"$KL_MANIFESTS/a-quiet.yaml"
pod critical '["/kltest", "fill-disk", "/data/f", "12"]' system-node-critical >"$KL_MANIFESTS/b-critical.yaml"
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "quiet and critical pods run" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '[.items[] | select(.status.phase==\"Running\")] | length')\" = 2 ]"
pod filler '["/bin/sh", "-c", "sleep 2; /kltest fill-disk /data/f 30"]' >"$KL_MANIFESTS/c-filler.yaml"
wait_for 60 "the pod filling the disk is evicted" pod_is filler-testnode .status.reason Evicted
check "...phase Failed" pod_is filler-testnode .status.phase Failed
msg=$(pod_field filler-testnode .status.message)
check "...with upstream's message ($msg)" matches "$msg" "^The node was low on resource: ephemeral-storage\\. Threshold quantity: [0-9]+"
filler_gone() { [ "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==filler-testnode' | wc -l)" = 0 ]; }
wait_for 20 "...its containers are gone" filler_gone
check "the critical pod (system-node-critical) was not evicted" pod_is critical-testnode .status.phase Running
check "the quiet pod keeps running" pod_is quiet-testnode .status.phase Running
check "kubelet_evictions{eviction_signal=\"nodefs.available\"} counted" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | grep -q '^kubelet_evictions{eviction_signal=\"nodefs.available\"} [1-9]'"
check "DiskPressure was reported" grep -q "node condition DiskPressure is now True" "$KL_TMP/kubelet-lite.log"
wait_for 40 "once the pressure is gone for the transition period, the pod is admitted again" grep -q "pod 'filler-testnode': the DiskPressure is gone, admitting it again" "$KL_TMP/kubelet-lite.log"
rm -f "$KL_MANIFESTS/c-filler.yaml"
wait_for 30 "DiskPressure clears" grep -q "node condition DiskPressure is now False" "$KL_TMP/kubelet-lite.log"
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
