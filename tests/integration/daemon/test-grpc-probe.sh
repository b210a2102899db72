#!/bin/bash
# grpc probes (grpc.health.v1.Health/Check) against kltest's grpc-health
# server in real containers, as upstream (pkg/probe/grpc): SERVING passes;
# NOT_SERVING, no server on the port and the timeout fail; the probe's
# service is sent; liveness failure restarts, readiness toggles ready.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
kl_config <<'YAML'
crashLoopBackOff: {initialContainerRestartPeriod: 1s, maxContainerRestartPeriod: 2s}
YAML
rport=$(free_port)
lport=$(free_port)
nport=$(free_port)
pod() { # name port file probe-kind service-or-empty [probe port]
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "grpc-health", "$2", "$3"]
    $4:
      grpc: {port: ${6:-$2}${5:+, service: $5}}
      periodSeconds: 1
      failureThreshold: 2
YAML
}
pod ready "$rport" /tmp/notready readinessProbe kltest.Ready >"$KL_MANIFESTS/ready.yaml"
pod live "$lport" /tmp/unhealthy livenessProbe "" >"$KL_MANIFESTS/live.yaml"
# liveness on a port nobody listens on: every run is a failure (timeout)
pod noserver "$nport" /tmp/unhealthy livenessProbe kltest.None "$(free_port)" >"$KL_MANIFESTS/noserver.yaml"
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }

ctr_log() { cat "$KL_LOGS"/default_"$1"-testnode_*/c/*.log 2>/dev/null; }
serving_checks() { ctr_log "$1" | grep -c "Check service='$2' -> SERVING"; }
exec_in() { # pod cmd
        local id
        id=$(pod_field "$1-testnode" '.status.containerStatuses[0].containerID')
        $CTR tasks exec --exec-id "x$RANDOM" "${id#containerd://}" /bin/sh -c "$2"
}

wait_for 30 "readiness grpc probe: SERVING makes the container ready" pod_is ready-testnode '.status.containerStatuses[0].ready' true
check "...the probe's service is sent (kltest logged service='kltest.Ready')" bash -c "[ \$(cat $KL_LOGS/default_ready-testnode_*/c/*.log | grep -c \"service='kltest.Ready' -> SERVING\") -ge 1 ]"
exec_in ready "touch /tmp/notready"
wait_for 10 "NOT_SERVING: ready=false" pod_is ready-testnode '.status.containerStatuses[0].ready' false
check "...without a restart" pod_is ready-testnode '.status.containerStatuses[0].restartCount' 0
exec_in ready "rm /tmp/notready"
wait_for 10 "SERVING again: ready=true" pod_is ready-testnode '.status.containerStatuses[0].ready' true

wait_for 30 "liveness grpc probe: live pod runs" pod_is live-testnode '.status.containerStatuses[0].state.running != null' true
# observable progress instead of a sleep: five passing checks have been made
wait_for 20 "...five passing liveness checks (empty service sent as '')" bash -c "[ \$(cat $KL_LOGS/default_live-testnode_*/c/*.log | grep -c \"service='' -> SERVING\") -ge 5 ]"
check "...and the container was never restarted" pod_is live-testnode '.status.containerStatuses[0].restartCount' 0
exec_in live "touch /tmp/unhealthy"
wait_for 20 "NOT_SERVING: liveness fails and the container is restarted" pod_is live-testnode '.status.containerStatuses[0].restartCount' 1
check "the log says why, with upstream's message" grep -q "container 'c' failed Liveness probe, will be restarted: service unhealthy (responded with \"NOT_SERVING\")" "$KL_TMP/kubelet-lite.log"
wait_for 20 "the new container runs and passes again" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -e '.items[] | select(.metadata.name==\"live-testnode\") | .status.containerStatuses[0] | .restartCount == 1 and .state.running != null' >/dev/null"

wait_for 30 "no server on the probed port: liveness fails, the container is restarted" bash -c "[ \$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items[] | select(.metadata.name==\"noserver-testnode\") | .status.containerStatuses[0].restartCount') -ge 1 ]"
check "...with upstream's timeout message" grep -q "container 'c' failed Liveness probe, will be restarted: timeout: health rpc did not complete within 1s" "$KL_TMP/kubelet-lite.log"
check "/pods shows the grpc probe with its port and service" pod_is ready-testnode \
        '.spec.containers[0].readinessProbe.grpc | "\(.port) \(.service)"' "$rport kltest.Ready"
check "kubelet-lite never exited" kill -0 "$KL_PID"
kl_finish
