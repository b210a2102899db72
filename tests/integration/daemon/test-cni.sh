#!/bin/bash
# A pod on the pod network, with containerd configured with Debian's bridge
# and host-local CNI plugins on a private subnet.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup --cni

cat >"$KL_MANIFESTS/net.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: net}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: http
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "http-ok", "8080"]
    env:
    - name: MY_POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
YAML
netns_before=$(ls /run/netns 2>/dev/null | wc -l)
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 40 "pod on the CNI bridge is Running" pod_is net-testnode .status.phase Running
ip=$(pod_field net-testnode .status.podIP)
check "podIP $ip is in 10.88.77.0/24" matches "$ip" ^10\.88\.77\.[0-9]+$
check "podIPs lists it" pod_is net-testnode '.status.podIPs[0].ip' "$ip"
wait_for 10 "the pod answers HTTP on its IP" bash -c "curl -fs --max-time 2 http://$ip:8080/ | grep -q ok"
rm "$KL_MANIFESTS/net.yaml"
wait_for 20 "removed pod leaves no containers" bash -c "[ -z \"\$($CTR containers ls -q)\" ]"
check "its network namespace is gone" test "$(ls /run/netns 2>/dev/null | wc -l)" -le "$netns_before"
kl_finish
