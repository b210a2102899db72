#!/bin/bash
# Metrics as upstream records them: every CRI operation (count, errors,
# duration), pod and container starts, PLEG relist duration and interval,
# kubelet_node_name, the Ready condition, restarted static pods; prober
# results on /metrics/probes and resource usage on /metrics/resource.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
BB=localhost/kubelet-lite/busybox:1.0
cat >"$KL_MANIFESTS/probed.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 5
  containers:
  - name: c
    image: $BB
    command: [sh, -c, "trap 'sleep 1; exit 0' TERM; while true; do sleep 1; done"]
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
YAML
cat >"$KL_MANIFESTS/broken.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: $BB, command: ["/does/not/exist"]}
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
M="http://127.0.0.1:$KL_RO_PORT"
metric() { curl -fs "$M/${2:-metrics}" | awk -v k="$1" 'index($0, k) == 1 {print $2; exit}'; }
ge() { local v; v=$(metric "$1" "${3:-}"); [ -n "$v" ] && awk -v a="$v" -v b="$2" 'BEGIN{exit !(a >= b)}'; }

wait_for 30 "probed pod ready" pod_is probed-testnode '.status.containerStatuses[0].ready' true
wait_for 20 "a container that cannot start counts a start_container error" ge 'kubelet_runtime_operations_errors_total{operation_type="start_container"}' 1
for op in run_podsandbox create_container start_container list_podsandbox list_containers container_status image_status; do
        check "kubelet_runtime_operations_total{operation_type=\"$op\"} counted" ge "kubelet_runtime_operations_total{operation_type=\"$op\"}" 1
done
check "...with durations" ge 'kubelet_runtime_operations_duration_seconds_count{operation_type="create_container"}' 1
check "kubelet_started_pods_total" ge kubelet_started_pods_total 2
check "kubelet_started_containers_total" ge 'kubelet_started_containers_total{container_type="container"}' 1
check "kubelet_started_containers_errors_total" ge 'kubelet_started_containers_errors_total{code="Unknown",container_type="container"}' 1
check "...retried with back-off, not in a loop" bash -c "[ \$(curl -fs $M/metrics | awk '/^kubelet_started_containers_errors_total/ {print \$2}') -le 5 ]"
check "PLEG relist duration" ge kubelet_pleg_relist_duration_seconds_count 1
check "PLEG relist interval" ge kubelet_pleg_relist_interval_seconds_count 1
check "PLEG last seen" ge kubelet_pleg_last_seen_seconds 1000000000
check "kubelet_node_name{node=\"testnode\"} 1" test "$(metric 'kubelet_node_name{node="testnode"}')" = 1
check "kubelet_node_condition{condition=\"Ready\"} 1" test "$(metric 'kubelet_node_condition{condition="Ready"}')" = 1
uid=$(pod_field probed-testnode .metadata.uid)
wait_for 10 "prober_probe_total on /metrics/probes" ge "prober_probe_total{container=\"c\",namespace=\"default\",pod=\"probed-testnode\",pod_uid=\"$uid\",probe_type=\"Readiness\",result=\"successful\"}" 2 metrics/probes
check "/metrics/resource: container_start_time_seconds" ge 'container_start_time_seconds{container="c",namespace="default",pod="probed-testnode"}' 1000000000 metrics/resource
check "/metrics/resource: node_cpu_usage_seconds_total" ge node_cpu_usage_seconds_total 0 metrics/resource
check "/metrics/resource: resource_scrape_error" bash -c "curl -fs $M/metrics/resource | grep -qE '^resource_scrape_error [01]$'"

# A static pod whose manifest comes back while it is still stopping restarts.
cp "$KL_MANIFESTS/probed.yaml" "$KL_TMP/probed.yaml"
rm "$KL_MANIFESTS/probed.yaml"
wait_for 10 "probed is terminating" pod_is probed-testnode '.metadata.deletionTimestamp != null' true
cp "$KL_TMP/probed.yaml" "$KL_MANIFESTS/probed.yaml"
wait_for 30 "...and runs again" pod_is probed-testnode '.metadata.deletionTimestamp == null and .status.containerStatuses[0].ready' true
check "kubelet_restarted_pods_total{static=\"true\"} 1" test "$(metric 'kubelet_restarted_pods_total{static="true"}')" = 1
kl_finish
