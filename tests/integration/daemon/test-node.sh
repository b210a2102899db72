#!/bin/bash
# Node agent services: /node shaped like a v1 Node, /stats/summary shaped like
# upstream's Summary API, the status file for appliance UIs (written
# atomically, only on change), /healthz/syncloop and --metrics-bind-address.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
mport=$(free_port)
cat >"$KL_MANIFESTS/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "log-lines", "100", "80"]}
YAML
kl_start --metrics-bind-address "127.0.0.1:$mport" || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "pod runs" pod_is web-testnode .status.phase Running
node=$(curl -fs "http://127.0.0.1:$KL_RO_PORT/node")
nq() { jq -r "$1" <<<"$node"; }
check "/node: kind Node, name testnode" test "$(nq '.kind + " " + .metadata.name')" = "Node testnode"
check "/node: capacity cpu = nproc ($(nproc))" test "$(nq .status.capacity.cpu)" = "$(nproc)"
check "/node: capacity memory in Ki" matches "$(nq .status.capacity.memory)" '^[0-9]+Ki$'
check "/node: allocatable pods 110" test "$(nq .status.allocatable.pods)" = 110
check "/node: conditions MemoryPressure DiskPressure PIDPressure Ready" test "$(nq '[.status.conditions[].type] | join(" ")')" = "MemoryPressure DiskPressure PIDPressure Ready"
check "/node: Ready True" test "$(nq '.status.conditions[] | select(.type=="Ready") | .status')" = True
check "/node: nodeInfo.kernelVersion is uname -r" test "$(nq .status.nodeInfo.kernelVersion)" = "$(uname -r)"
check "/node: nodeInfo.containerRuntimeVersion" matches "$(nq .status.nodeInfo.containerRuntimeVersion)" '^containerd://'
check "/node: nodeInfo.kubeletVersion" matches "$(nq .status.nodeInfo.kubeletVersion)" '^kubelet-lite '
check "/node: nodeInfo.osImage" test -n "$(nq .status.nodeInfo.osImage)"
sum=$(curl -fs "http://127.0.0.1:$KL_RO_PORT/stats/summary")
check "/stats/summary: node name and fs" test "$(jq -r '.node.nodeName + " " + (.node.fs.capacityBytes > 0 | tostring)' <<<"$sum")" = "testnode true"
check "/stats/summary: node cpu usageCoreNanoSeconds" test "$(jq '.node.cpu.usageCoreNanoSeconds > 0' <<<"$sum")" = true
check "/stats/summary: node memory availableBytes" test "$(jq '.node.memory.availableBytes > 0' <<<"$sum")" = true
check "/stats/summary: the pod with its container" test "$(jq -r '.pods[0].podRef.name + " " + .pods[0].containers[0].name' <<<"$sum")" = "web-testnode c"
# disk usage is measured on a timer, never in the request: it shows up soon after it is first asked for
wait_for 10 "/stats/summary: log usage, measured in the background" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/stats/summary | jq -e '.pods[0].containers[0].logs.usedBytes > 0 and .pods[0][\"ephemeral-storage\"].usedBytes > 0' >/dev/null"
wait_for 10 "status file written under root-dir" test -s "$KL_ROOT/node-status.json"
check "status file: the pod, Running" test "$(jq -r '.pods[0].name + " " + .pods[0].phase' "$KL_ROOT/node-status.json")" = "web-testnode Running"
m1=$(stat -c %Y.%N "$KL_ROOT/node-status.json" | cut -d' ' -f1; stat -c %i "$KL_ROOT/node-status.json")
sleep 6
m2=$(stat -c %Y.%N "$KL_ROOT/node-status.json" | cut -d' ' -f1; stat -c %i "$KL_ROOT/node-status.json")
check "status file is not rewritten when nothing changed" test "$m1" = "$m2"
check "no temporary files left in root-dir" bash -c "! ls -a '$KL_ROOT' | grep -q '\.tmp$'"
check "/healthz/syncloop ok" test "$(curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz/syncloop")" = ok
check "--metrics-bind-address serves /metrics" bash -c "curl -fs http://127.0.0.1:$mport/metrics | grep -q '^kubelet_running_pods 1'"
check "...and nothing else" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/pods")" = 404
check "read-only endpoints refuse POST (405)" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$KL_RO_PORT/pods")" = 405
kl_finish
