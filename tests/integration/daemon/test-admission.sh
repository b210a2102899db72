#!/bin/bash
# Admission against node allocatable: upstream's OutOfmemory/OutOfcpu/OutOfpods
# rejections, and (beyond upstream) re-admission in manifest order once
# resources free up. Runs on the host with cgroupsPerQOS: false; the board VM
# repeats this on a real cgroup v2 kernel.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
memtotal_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
# allocatable = capacity - reserved - evictionHard(100Mi) = 300Mi
reserved_mib=$(( memtotal_kib / 1024 - 100 - 300 ))
ncpu=$(nproc)
kl_config <<YAML
systemReserved: {memory: ${reserved_mib}Mi, cpu: $(( ncpu * 1000 - 600 ))m}
maxPods: 4
YAML

pod() { # name cpu memory
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
    command: ["/kltest", "sleep"]
    resources: {requests: {cpu: $2, memory: $3}}
YAML
}
pod a 300m 200Mi >"$KL_MANIFESTS/a.yaml"
pod b 100m 200Mi >"$KL_MANIFESTS/b.yaml"
pod c 400m 10Mi >"$KL_MANIFESTS/c.yaml"
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "pod a (200Mi of 300Mi) is admitted and Running" pod_is a-testnode .status.phase Running
wait_for 10 "pod b does not fit: phase Failed" pod_is b-testnode .status.phase Failed
check "...reason OutOfmemory" pod_is b-testnode .status.reason OutOfmemory
msg=$(pod_field b-testnode .status.message)
check "...message gives requested and free amounts ($msg)" matches "$msg" "requested: 209715200.*"
check "...no container was created for b" test "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==b-testnode' | wc -l)" = 0
check "pod c asks 400m of the 300m left: OutOfcpu" pod_is c-testnode .status.reason OutOfcpu
check "the log says it waits for resources in manifest order" grep -q "will be admitted when resources free up, in manifest order" "$KL_TMP/kubelet-lite.log"

rm "$KL_MANIFESTS/a.yaml"
wait_for 30 "a removed: b is admitted and Running (re-admission)" pod_is b-testnode .status.phase Running
check "c now fits too (a's cpu is free) and runs" pod_is c-testnode '.status.phase' Running
for n in d e f; do pod $n 10m 1Mi >"$KL_MANIFESTS/$n.yaml"; done
wait_for 20 "maxPods 4: the fifth pod is rejected with OutOfpods" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"f-testnode\") | .status.reason' | grep -qx OutOfpods"

# Host ports: upstream's NodePorts predicate rejects a second pod asking for a
# host port already taken, and admits it once the port is free.
rm -f "$KL_MANIFESTS"/[def].yaml "$KL_MANIFESTS"/[bc].yaml
wait_for 30 "only the pods of this section are left" bash -c "[ \$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items | length') = 0 ]"
hp=$(free_port)
webpod() {
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "http-ok", "$hp"]
    ports: [{containerPort: $hp}]
YAML
}
webpod web1 >"$KL_MANIFESTS/web1.yaml"
wait_for 30 "web1 holds host port $hp and runs" pod_is web1-testnode .status.phase Running
webpod web2 >"$KL_MANIFESTS/web2.yaml"
wait_for 10 "web2 asks for the same host port: rejected" pod_is web2-testnode .status.reason NodePorts
check "...phase Failed, with the predicate's message" matches "$(pod_field web2-testnode .status.message)" "Predicate NodePorts failed"
check "...and no container was created for it" test "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==web2-testnode' | wc -l)" = 0
check "...a Warning NodePorts event says so" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '.items[] | select(.involvedObject.name==\"web2-testnode\" and .reason==\"NodePorts\" and .type==\"Warning\")' >/dev/null"
rm -f "$KL_MANIFESTS/web1.yaml"
wait_for 30 "web1 gone: web2 is admitted and Running" pod_is web2-testnode .status.phase Running
check "web2 serves on the port" bash -c "curl -fs http://127.0.0.1:$hp/ >/dev/null"
kl_finish
