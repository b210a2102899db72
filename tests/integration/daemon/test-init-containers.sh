#!/bin/bash
# Init containers as upstream's computeInitContainerActions
# (pkg/kubelet/kuberuntime/kuberuntime_container.go): each regular init
# container runs to a successful exit before the next one starts, app
# containers start only after all of them; a restartable init container
# (sidecar) must be started (startup probe passed) before the next one; a
# failing init container fails the pod under restartPolicy Never and is
# retried with back-off otherwise, the app containers never starting.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
kl_config <<'YAML'
crashLoopBackOff:
  initialContainerRestartPeriod: 1s
  maxContainerRestartPeriod: 2s
YAML
mkdir -p "$KL_TMP/s1" "$KL_TMP/s2" "$KL_TMP/s3" "$KL_TMP/s4"
BB=localhost/kubelet-lite/busybox:1.0

# The reproducer of the bug: i2 is slow; "main" must come after "two".
cat >"$KL_MANIFESTS/order.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: order}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  volumes: [{name: s, hostPath: {path: $KL_TMP/s1, type: Directory}}]
  initContainers:
  - {name: i1, image: $BB, command: [sh, -c, "echo one >> /s/order"], volumeMounts: [{name: s, mountPath: /s}]}
  - {name: i2, image: $BB, command: [sh, -c, "sleep 1; echo two >> /s/order"], volumeMounts: [{name: s, mountPath: /s}]}
  containers:
  - name: main
    image: $BB
    command: [sh, -c, "echo main >> /s/order; trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{name: s, mountPath: /s}]
YAML

# A sidecar with a startup probe that passes only after 2 s: the init
# container after it waits for that.
cat >"$KL_MANIFESTS/sidecar.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  volumes: [{name: s, hostPath: {path: $KL_TMP/s2, type: Directory}}]
  initContainers:
  - name: proxy
    image: $BB
    restartPolicy: Always
    command: [sh, -c, "echo side-start >> /s/order; sleep 2; touch /tmp/up; echo side-up >> /s/order; trap 'exit 0' TERM; while true; do sleep 1; done"]
    startupProbe: {exec: {command: [test, -f, /tmp/up]}, periodSeconds: 1, failureThreshold: 30}
    volumeMounts: [{name: s, mountPath: /s}]
  - {name: after, image: $BB, command: [sh, -c, "echo two >> /s/order"], volumeMounts: [{name: s, mountPath: /s}]}
  containers:
  - name: main
    image: $BB
    command: [sh, -c, "echo main >> /s/order; trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{name: s, mountPath: /s}]
YAML

# A failing init container, restartPolicy Never: the pod fails, main never runs.
cat >"$KL_MANIFESTS/never.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: initnever}
spec:
  hostNetwork: true
  restartPolicy: Never
  volumes: [{name: s, hostPath: {path: $KL_TMP/s3, type: Directory}}]
  initContainers:
  - {name: bad, image: $BB, command: [sh, -c, "echo bad >> /s/order; exit 7"], volumeMounts: [{name: s, mountPath: /s}]}
  containers:
  - {name: main, image: $BB, command: [sh, -c, "echo main >> /s/order"], volumeMounts: [{name: s, mountPath: /s}]}
YAML

# A failing init container, restartPolicy OnFailure: retried with back-off.
cat >"$KL_MANIFESTS/onfailure.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: initretry}
spec:
  hostNetwork: true
  restartPolicy: OnFailure
  volumes: [{name: s, hostPath: {path: $KL_TMP/s4, type: Directory}}]
  initContainers:
  - {name: bad, image: $BB, command: [sh, -c, "echo bad >> /s/order; exit 1"], volumeMounts: [{name: s, mountPath: /s}]}
  containers:
  - {name: main, image: $BB, command: [sh, -c, "echo main >> /s/order"], volumeMounts: [{name: s, mountPath: /s}]}
YAML

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }

order() { tr '\n' , <"$1"; }
wait_for 40 "order: pod Running" pod_is order-testnode .status.phase Running
wait_for 10 "order: main wrote its line" grep -q main "$KL_TMP/s1/order"
check "order: one, two, main ($(order "$KL_TMP/s1/order"))" [ "$(order "$KL_TMP/s1/order")" = "one,two,main," ]
check "order: i2 started after i1 finished" [ "$(pod_field order-testnode '.status.initContainerStatuses[1].state.terminated.startedAt >= .status.initContainerStatuses[0].state.terminated.finishedAt')" = true ]
check "order: main started after i2 finished" [ "$(pod_field order-testnode '.status.containerStatuses[0].state.running.startedAt >= .status.initContainerStatuses[1].state.terminated.finishedAt')" = true ]

wait_for 40 "sidecar: pod Running" pod_is sidecar-testnode .status.phase Running
wait_for 10 "sidecar: main wrote its line" grep -q main "$KL_TMP/s2/order"
check "sidecar: the next init container waited for the sidecar's startup probe ($(order "$KL_TMP/s2/order"))" \
        [ "$(order "$KL_TMP/s2/order")" = "side-start,side-up,two,main," ]
check "sidecar: still running and started" pod_is sidecar-testnode '.status.initContainerStatuses[0].started' true

wait_for 30 "Never: a failed init container fails the pod" pod_is initnever-testnode .status.phase Failed
check "Never: the init container is not restarted" [ "$(grep -c bad "$KL_TMP/s3/order")" = 1 ]
check "Never: exit code 7 shown" pod_is initnever-testnode '.status.initContainerStatuses[0].state.terminated.exitCode' 7
check "Never: main never ran" bash -c "! grep -q main '$KL_TMP/s3/order'"

wait_for 30 "OnFailure: the init container is retried (3 runs)" bash -c "[ \$(grep -c bad '$KL_TMP/s4/order') -ge 3 ]"
check "OnFailure: pod stays Pending" pod_is initretry-testnode .status.phase Pending
check "OnFailure: restartCount counts the retries" bash -c "[ \$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items[] | select(.metadata.name==\"initretry-testnode\") | .status.initContainerStatuses[0].restartCount') -ge 2 ]"
check "OnFailure: main never ran" bash -c "! grep -q main '$KL_TMP/s4/order'"

check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
