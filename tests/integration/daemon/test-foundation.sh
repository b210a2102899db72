#!/bin/bash
# The spine: a manifest file becomes a running container on a real containerd,
# with upstream's labels and log paths; removal, replacement, restart and
# adoption of kubelet-lite itself; /healthz and /pods.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup

cat >"$KL_MANIFESTS/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "sleep"]
    resources:
      requests: {cpu: 50m, memory: 16Mi}
YAML

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
check "/healthz answers ok" test "$(curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz")" = ok
wait_for 30 "pod web-testnode is Running" pod_is web-testnode .status.phase Running
wait_for 10 "container main is running" pod_is web-testnode '.status.containerStatuses[0].state.running != null' true
check "/pods is a v1 PodList" test "$(pods_jq '.kind + " " + .apiVersion')" = "PodList v1"
uid=$(pod_field web-testnode .metadata.uid)
check "uid is 32 hex chars" matches "$uid" ^[0-9a-f]{32}$
check "config.hash annotation equals the uid" pod_is web-testnode '.metadata.annotations["kubernetes.io/config.hash"]' "$uid"
check "config.source is file" pod_is web-testnode '.metadata.annotations["kubernetes.io/config.source"]' file
check "config.seen is set" test -n "$(pod_field web-testnode '.metadata.annotations["kubernetes.io/config.seen"]')"
check "qosClass is Burstable" pod_is web-testnode .status.qosClass Burstable
check "restartCount 0" pod_is web-testnode '.status.containerStatuses[0].restartCount' 0
cid=$(pod_field web-testnode '.status.containerStatuses[0].containerID')
check "containerID is containerd://..." matches "$cid" ^containerd://[0-9a-f]{64}$
check "spec.nodeName is testnode" pod_is web-testnode .spec.nodeName testnode
check "Ready condition True" pod_is web-testnode '.status.conditions[] | select(.type=="Ready") | .status' True
id=${cid#containerd://}
metrics=$(curl -fs "http://127.0.0.1:$KL_RO_PORT/metrics")
check "/metrics: kubelet_running_pods 1" grep -qx "kubelet_running_pods 1" <<<"$metrics"
check "/metrics: kubelet_running_containers{container_state=\"running\"} 1" grep -qx 'kubelet_running_containers{container_state="running"} 1' <<<"$metrics"
check "/metrics: kubelet_started_containers_total counts the start" grep -q '^kubelet_started_containers_total{container_type="container"} 1' <<<"$metrics"
check "/metrics: a pod start duration was observed" grep -q '^kubelet_pod_start_duration_seconds_count 1' <<<"$metrics"
check "/metrics: process_resident_memory_bytes" grep -qE '^process_resident_memory_bytes [0-9]+' <<<"$metrics"

info=$($CTR containers info "$id")
lbl() { echo "$info" | jq -r ".Labels[\"$1\"]"; }
check "CRI label io.kubernetes.pod.name" test "$(lbl io.kubernetes.pod.name)" = web-testnode
check "CRI label io.kubernetes.pod.namespace" test "$(lbl io.kubernetes.pod.namespace)" = default
check "CRI label io.kubernetes.pod.uid" test "$(lbl io.kubernetes.pod.uid)" = "$uid"
check "CRI label io.kubernetes.container.name" test "$(lbl io.kubernetes.container.name)" = main
log="$KL_LOGS/default_web-testnode_$uid/main/0.log"
wait_for 10 "log file at podLogsDir/<ns>_<name>_<uid>/<container>/0.log has the output" grep -q sleep "$log"

# Restart of kubelet-lite: pods keep running and are adopted, not restarted.
kl_stop TERM
check "SIGTERM leaves the container running" bash -c "$CTR tasks ls | grep -q '$id.*RUNNING'"
kl_start || not_ok "kubelet-lite restarts"
wait_for 20 "adopted pod reports Running again" pod_is web-testnode .status.phase Running
check "same container after restart (adopted)" pod_is web-testnode '.status.containerStatuses[0].containerID' "$cid"
check "restartCount still 0" pod_is web-testnode '.status.containerStatuses[0].restartCount' 0

# Identical rewrite: nothing restarts.
cp "$KL_MANIFESTS/web.yaml" "$KL_TMP/web.copy" && mv "$KL_TMP/web.copy" "$KL_MANIFESTS/web.yaml"
sleep 2
check "identical rewrite keeps the same container" pod_is web-testnode '.status.containerStatuses[0].containerID' "$cid"

# A changed manifest replaces the pod.
sed -i 's/app: web/app: web2/' "$KL_MANIFESTS/web.yaml"
wait_for 30 "changed manifest gives a new uid" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[0].metadata.uid')\" != $uid ]"
wait_for 30 "replaced pod is Running" pod_is web-testnode .status.phase Running
check "old container is gone" bash -c "! $CTR containers ls -q | grep -q $id"
check "old pod's log dir is removed" test ! -d "$KL_LOGS/default_web-testnode_$uid"

# Removing the manifest removes the pod within the grace period.
rm "$KL_MANIFESTS/web.yaml"
wait_for 15 "removed manifest: pod disappears from /pods" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items | length')\" = 0 ]"
wait_for 15 "no containers left" bash -c "[ -z \"\$($CTR containers ls -q)\" ]"
wait_for 15 "no sandboxes left (no tasks)" bash -c "[ -z \"\$($CTR tasks ls -q)\" ]"

# A pod network without CNI config: clear reason, no leaked sandbox.
cat >"$KL_MANIFESTS/podnet.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: podnet}
spec:
  containers:
  - {name: c, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "sleep"]}
YAML
wait_for 15 "pod network without CNI shows NetworkNotReady" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[0].status.message' | grep -q 'cni plugin not initialized'"
check "...and is Pending" pod_is podnet-testnode .status.phase Pending
check "...and no sandbox leaked" bash -c "[ -z \"\$($CTR containers ls -q)\" ]"
rm "$KL_MANIFESTS/podnet.yaml"

check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
