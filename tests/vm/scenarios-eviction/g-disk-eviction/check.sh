# (g) Eviction on a real full filesystem: kubelet-lite's root dir on a small
# tmpfs, a pod writing 30Mi into its emptyDir; it is evicted for
# ephemeral-storage (the pod using the most disk), DiskPressure shows and
# clears once its emptyDir is gone, and a critical pod is never evicted.
. "$BOARD_LIB"

board_kubelet_stop
mkdir -p "$BOARD_KL_ROOT"
mount -t tmpfs -o size=64m tmpfs "$BOARD_KL_ROOT"
board_check "kubelet-lite restarts on the small root dir" board_kubelet_start
pod() { # name priorityClassName args
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  priorityClassName: $2
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    args: $3
    volumeMounts: [{name: data, mountPath: /data}]
YAML
}
pod critical system-node-critical '["fill-disk", "/data/f", "10"]' >/tmp/critical.yaml
board_manifest_add /tmp/critical.yaml
board_check "the critical pod runs" board_wait_pod critical '.status.phase == "Running"' 90
pod filler "" '["fill-disk", "/data/f", "30"]' | sed '/priorityClassName: $/d' >/tmp/filler.yaml
board_manifest_add /tmp/filler.yaml
board_check "the pod filling the disk is evicted" board_wait_pod filler '.status.reason == "Evicted"' 120
msg=$(board_pod_get filler .status.message)
board_check "for ephemeral-storage ('$msg')" sh -c "echo '$msg' | grep -q '^The node was low on resource: ephemeral-storage\.'"
board_check_eq "the critical pod is not evicted" Running "$(board_pod_get critical .status.phase)"
board_check "DiskPressure was reported" grep -q "node condition DiskPressure is now True" "$BOARD_KL_LOG"
board_manifest_rm filler.yaml
wait_log() {
        i=0
        while [ $i -lt "$2" ]; do
                grep -q "$1" "$BOARD_KL_LOG" && return 0
                sleep 1
                i=$((i + 1))
        done
        return 1
}
board_check "DiskPressure clears once the filler is gone" wait_log "node condition DiskPressure is now False" 60
board_check "kubelet-lite is still healthy" board_healthz
board_manifests_clear
board_wait_gone critical 60 >/dev/null 2>&1
board_kubelet_stop
umount "$BOARD_KL_ROOT" 2>/dev/null
board_summary
