#!/bin/bash
# Pod sysctls as upstream's sysctl admission (pkg/kubelet/sysctl/allowlist.go):
# the safe set runs, an unsafe sysctl is rejected with SysctlForbidden unless
# allowedUnsafeSysctls lists it, and a net.* sysctl is refused for a
# hostNetwork pod.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
pod() { # name sysctl value
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls: [{name: $2, value: "$3"}]
  containers:
  - {name: c, image: localhost/kubelet-lite/busybox:1.0, command: [sh, -c, "cat /proc/sys/${2//.//}; trap 'exit 0' TERM; while true; do sleep 1; done"]}
YAML
}
pod ipc kernel.msgmax 12345 >"$KL_MANIFESTS/ipc.yaml"
pod net net.ipv4.ip_unprivileged_port_start 80 >"$KL_MANIFESTS/net.yaml"
pod safe kernel.shm_rmid_forced 1 >"$KL_MANIFESTS/safe.yaml"
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "a safe sysctl (kernel.shm_rmid_forced) runs" pod_is safe-testnode .status.phase Running
wait_for 20 "kernel.msgmax, not allowlisted: rejected" pod_is ipc-testnode .status.reason SysctlForbidden
check "...with upstream's message" pod_is ipc-testnode .status.message 'forbidden sysctl: "kernel.msgmax" not allowlisted'
check "net.* with hostNetwork: rejected" pod_is net-testnode .status.message 'forbidden sysctl: "net.ipv4.ip_unprivileged_port_start" not allowed with host net enabled'
check "no container was created for the rejected pods" test "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==ipc-testnode' | wc -l)" = 0

kl_stop
check "a non-namespaced allowedUnsafeSysctls pattern is refused at start" bash -c "! '$KL_BIN' --pod-manifest-path '$KL_MANIFESTS' --allowed-unsafe-sysctls kernel.panic --container-runtime-endpoint unix:///nonexistent --root-dir '$KL_TMP/x' 2>'$KL_TMP/err.txt' && grep -q 'kernel.panic' '$KL_TMP/err.txt'"
kl_start --allowed-unsafe-sysctls 'kernel.msg*' || { not_ok "kubelet-lite restarts"; kl_finish; }
wait_for 30 "with allowedUnsafeSysctls kernel.msg* the pod runs" pod_is ipc-testnode .status.phase Running
uid=$(pod_field ipc-testnode .metadata.uid)
wait_for 10 "...and its container sees kernel.msgmax = 12345" bash -c "grep -q 12345 '$KL_LOGS'/default_ipc-testnode_$uid/c/0.log"
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
