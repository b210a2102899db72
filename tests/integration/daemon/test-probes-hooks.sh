#!/bin/bash
# Probes and lifecycle hooks as upstream: readiness gates ready, liveness
# failure restarts the container, startup gates the others; postStart runs
# after the start, preStop runs within the grace period before SIGTERM, and
# StopContainer gets what is left (SIGKILL after it).
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
kl_config <<'YAML'
crashLoopBackOff: {initialContainerRestartPeriod: 1s, maxContainerRestartPeriod: 2s}
YAML
hport=$(free_port)
lport=$(free_port)
cat >"$KL_MANIFESTS/probed.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 3
  containers:
  - name: web
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "http-ok", "$hport", "/tmp/notready"]
    startupProbe:
      tcpSocket: {port: $hport}
      periodSeconds: 1
    readinessProbe:
      httpGet: {path: /healthz, port: $hport}
      periodSeconds: 1
      failureThreshold: 1
    livenessProbe:
      exec: {command: ["/bin/sh", "-c", "test ! -e /tmp/dead"]}
      periodSeconds: 1
      failureThreshold: 2
YAML
cat >"$KL_MANIFESTS/hooks.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 6
  volumes: [{name: out, hostPath: {path: $KL_TMP/hookout, type: DirectoryOrCreate}}]
  containers:
  - name: main
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "trap 'echo got-term >> /out/events; exit 0' TERM; while true; do sleep 0.2; done"]
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo post-start >> /out/events"]}
      preStop:
        exec: {command: ["sh", "-c", "echo pre-stop >> /out/events; sleep 1"]}
  - name: stubborn
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "ignore-sigterm"]
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }

wait_for 30 "probed pod: Running and Ready once startup and readiness succeed" pod_is probed-testnode '.status.conditions[] | select(.type=="Ready") | .status' True
check "containerStatuses: started and ready" pod_is probed-testnode '.status.containerStatuses[0] | "\(.started) \(.ready)"' "true true"
cid=$(pod_field probed-testnode '.status.containerStatuses[0].containerID')
id=${cid#containerd://}
$CTR tasks exec --exec-id mk1 "$id" /bin/sh -c "touch /tmp/notready"
wait_for 10 "readiness failure: ready=false, Ready condition False" pod_is probed-testnode '.status.containerStatuses[0].ready' false
check "...without a restart" pod_is probed-testnode '.status.containerStatuses[0].restartCount' 0
$CTR tasks exec --exec-id mk2 "$id" /bin/sh -c "rm /tmp/notready"
wait_for 10 "readiness recovers" pod_is probed-testnode '.status.containerStatuses[0].ready' true
$CTR tasks exec --exec-id mk3 "$id" /bin/sh -c "touch /tmp/dead"
wait_for 20 "liveness failure restarts the container (restartCount 1)" pod_is probed-testnode '.status.containerStatuses[0].restartCount' 1
check "the log says why" grep -q "failed Liveness probe, will be restarted" "$KL_TMP/kubelet-lite.log"
check "a Warning Unhealthy event says so too" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '.items[] | select(.involvedObject.name==\"probed-testnode\" and .reason==\"Unhealthy\" and .type==\"Warning\") | select(.message | startswith(\"Liveness probe failed\"))' >/dev/null"
check "and a Normal Killing event" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '.items[] | select(.involvedObject.name==\"probed-testnode\" and .reason==\"Killing\")' >/dev/null"
wait_for 20 "after the restart it is ready again" pod_is probed-testnode '.status.containerStatuses[0].ready' true

wait_for 30 "hooks pod is Running" pod_is hooks-testnode .status.phase Running
wait_for 10 "postStart hook ran" grep -q post-start "$KL_TMP/hookout/events"
t0=$SECONDS
rm "$KL_MANIFESTS/hooks.yaml"
wait_for 20 "removed: the pod's containers are gone" bash -c "[ \$($CTR containers ls -q 'labels.\"io.kubernetes.pod.name\"==hooks-testnode' | wc -l) = 0 ]"
elapsed=$((SECONDS - t0))
check "preStop ran before SIGTERM (events: $(tr '\n' ' ' <"$KL_TMP/hookout/events"))" bash -c "grep -A1 pre-stop '$KL_TMP/hookout/events' | grep -q got-term"
check "a container ignoring SIGTERM is killed when the 6 s grace period ends (took ${elapsed}s)" test "$elapsed" -ge 5 -a "$elapsed" -le 15
kl_finish
