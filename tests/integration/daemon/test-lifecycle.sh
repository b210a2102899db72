#!/bin/bash
# Pod lifecycle like upstream: restart policies and CrashLoopBackOff, init
# containers and sidecars, phases, termination messages, env and volumes.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
kl_config <<'YAML'
crashLoopBackOff:
  initialContainerRestartPeriod: 1s
  maxContainerRestartPeriod: 4s
YAML
mkdir -p "$KL_TMP/hostdir" && echo from-host >"$KL_TMP/hostdir/hello"

cat >"$KL_MANIFESTS/crash.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "exit", "3"]}
YAML
cat >"$KL_MANIFESTS/never.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  hostNetwork: true
  restartPolicy: Never
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "termination-message", "goodbye from the container"]
YAML
cat >"$KL_MANIFESTS/onfailure.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  hostNetwork: true
  restartPolicy: OnFailure
  containers:
  - {name: c, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "exit", "0"]}
YAML
cat >"$KL_MANIFESTS/init.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  hostNetwork: true
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: host, hostPath: {path: $KL_TMP/hostdir, type: Directory}}
  initContainers:
  - name: first
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "echo one > /shared/order"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: second
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "echo two >> /shared/order"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: sidecar
    image: localhost/kubelet-lite/testbox:1.0
    restartPolicy: Always
    command: ["/kltest", "sleep"]
  containers:
  - name: main
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "cat /shared/order /host/hello; echo name=\$MY_NAME ns=\$MY_NS node=\$MY_NODE; trap 'exit 0' TERM; while true; do sleep 1; done"]
    env:
    - {name: MY_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: MY_NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: host, mountPath: /host, readOnly: true}
YAML

cat >"$KL_MANIFESTS/deadline.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: deadline}
spec:
  hostNetwork: true
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "sleep"]}
YAML

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }

# restartPolicy Always + a crashing container: restarts with backoff
wait_for 30 "crashing container is restarted (restartCount >= 2)" bash -c "[ \$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items[] | select(.metadata.name==\"crash-testnode\") | .status.containerStatuses[0].restartCount') -ge 2 ]"
wait_for 20 "it shows CrashLoopBackOff while waiting" pod_is crash-testnode '.status.containerStatuses[0].state.waiting.reason' CrashLoopBackOff
check "lastState.terminated.exitCode is 3" pod_is crash-testnode '.status.containerStatuses[0].lastState.terminated.exitCode' 3
# upstream's convertToAPIContainerStatuses: a container waiting to restart
# shows its newest termination as lastState (not the one before).
check "while in back-off, lastState is the newest attempt (same containerID)" pod_is crash-testnode \
        '.status.containerStatuses[0] | select(.state.waiting.reason=="CrashLoopBackOff") | .lastState.terminated.containerID == .containerID' true
check "Ready=False says why (upstream's GeneratePodReadyCondition)" pod_is crash-testnode \
        '.status.conditions[] | select(.type=="Ready") | .reason + ": " + .message' "ContainersNotReady: containers with unready status: [c]"
# Events, as upstream records them (GET /events on the read-only port).
events() { curl -fs "http://127.0.0.1:$KL_RO_PORT/events"; }
ev() { events | jq -r --arg n "$1" --arg r "$2" '[.items[] | select(.involvedObject.name==$n and .reason==$r)] | first | '"$3"; }
check "event Created for the crashing container" test "$(ev crash-testnode Created .message)" = "Created container c"
check "event Started" test "$(ev crash-testnode Started '.involvedObject.fieldPath')" = "spec.containers{c}"
check "event Pulled (image already present)" matches "$(ev crash-testnode Pulled .message)" 'Container image ".*testbox:1.0" already present on machine'
check "event BackOff, a Warning, folded with a count" test "$(ev crash-testnode BackOff '.type + " " + (.count >= 1 | tostring)')" = "Warning true"
echo 'apiVersion: v1
kind: Pod
metadata: {name: broken}
spec: {containers: [{name: c}]}' >"$KL_MANIFESTS/broken.yaml"
wait_for 10 "an invalid manifest gives a Warning InvalidManifest event on the node" bash -c \
        "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '.items[] | select(.reason==\"InvalidManifest\" and .involvedObject.kind==\"Node\") | select(.message | test(\"broken.yaml\"))' >/dev/null"
rm -f "$KL_MANIFESTS/broken.yaml"
check "each exit is logged with code, reason and restart count" grep -q "pod 'crash-testnode': container 'c' exited with code 3 (Error), restart count" "$KL_TMP/kubelet-lite.log"
check "phase stays Running for restartPolicy Always" pod_is crash-testnode .status.phase Running
uid=$(pod_field crash-testnode .metadata.uid)
rc=$(pod_field crash-testnode '.status.containerStatuses[0].restartCount')
check "one log file per restart (<restart>.log for the last two)" test -f "$KL_LOGS/default_crash-testnode_$uid/c/$rc.log" -a -f "$KL_LOGS/default_crash-testnode_$uid/c/$((rc - 1)).log"
# a removal may be in flight right after a restart: wait for it, do not sleep
few_crash_containers() {
        local n
        n=$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==crash-testnode,labels."io.kubernetes.container.name"==c' | wc -l)
        [ "$n" -le 2 ] && [ "$n" -ge 1 ]
}
wait_for 10 "older attempts are garbage-collected (at most 2 containers kept for c)" few_crash_containers

# restartPolicy Never: Failed, with the termination message
wait_for 20 "restartPolicy Never + exit 3 gives phase Failed" pod_is never-testnode .status.phase Failed
check "terminated.exitCode 3" pod_is never-testnode '.status.containerStatuses[0].state.terminated.exitCode' 3
check "termination message read back" pod_is never-testnode '.status.containerStatuses[0].state.terminated.message' "goodbye from the container"
check "not restarted" pod_is never-testnode '.status.containerStatuses[0].restartCount' 0

# OnFailure + exit 0: Succeeded
wait_for 20 "restartPolicy OnFailure + exit 0 gives phase Succeeded" pod_is onfailure-testnode .status.phase Succeeded
check "reason Completed" pod_is onfailure-testnode '.status.containerStatuses[0].state.terminated.reason' Completed

# init containers in order, sidecar running, main sees volumes and env
wait_for 40 "pod with init containers and a sidecar is Running" pod_is init-testnode .status.phase Running
check "init containers completed with exit 0" pod_is init-testnode '[.status.initContainerStatuses[0,1].state.terminated.exitCode] | join(",")' "0,0"
check "sidecar keeps running" pod_is init-testnode '.status.initContainerStatuses[2].state.running != null' true
check "Initialized condition True" pod_is init-testnode '.status.conditions[] | select(.type=="Initialized") | .status' True
check "PodReadyToStartContainers True" pod_is init-testnode '.status.conditions[] | select(.type=="PodReadyToStartContainers") | .status' True
check "hostIPs listed" pod_is init-testnode '.status.hostIPs[0].ip == .status.hostIP' true
wait_for 10 "Ready became True after the pod was created (lastTransitionTime moves)" pod_is init-testnode \
        '.metadata.creationTimestamp as $c | .status.conditions[] | select(.type=="Ready") | .status == "True" and .lastTransitionTime > $c' true
iuid=$(pod_field init-testnode .metadata.uid)
ilog="$KL_LOGS/default_init-testnode_$iuid/main/0.log"
# CRI log lines: "<time> stdout F <text>"
wait_for 10 "init containers ran in order (one, two)" bash -c "[ \"\$(cut -d' ' -f4- '$ilog' | head -2 | tr '\n' ,)\" = one,two, ]"
check "hostPath volume mounted" grep -q from-host "$ilog"
check "env fieldRefs resolved" grep -q "name=init-testnode ns=default node=testnode" "$ilog"

# activeDeadlineSeconds
wait_for 20 "activeDeadlineSeconds 3: the pod is stopped with reason DeadlineExceeded" pod_is deadline-testnode .status.reason DeadlineExceeded
check "...phase Failed" pod_is deadline-testnode .status.phase Failed
wait_for 10 "...and its containers are gone" bash -c "[ \$($CTR containers ls -q 'labels.\"io.kubernetes.pod.name\"==deadline-testnode' | wc -l) = 0 ]"

check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
