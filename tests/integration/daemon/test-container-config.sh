#!/bin/bash
# Container configuration as upstream: securityContext, seccomp, DNS policies,
# host namespaces, hostname, hostPort, memory-backed emptyDir.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup --cni
hp=$(free_port)

cat >"$KL_MANIFESTS/sec.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  volumes: [{name: cache, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]
  containers:
  - name: restricted
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "id -u; id -g; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch /rootfs-write 2>/dev/null && echo rootfs-writable || echo rootfs-readonly; stat -f -c 'cache=%T' /cache; df -k /cache | tail -1; sleep 1000"]
    volumeMounts: [{name: cache, mountPath: /cache}]
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
  - name: priv
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status; sleep 1000"]
    securityContext: {privileged: true, runAsUser: 0}
YAML
cat >"$KL_MANIFESTS/ns.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: ns}
spec:
  hostPID: true
  hostIPC: true
  hostname: myhost
  dnsPolicy: None
  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [example.test]
    options: [{name: ndots, value: "2"}]
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/bin/sh", "-c", "hostname; readlink /proc/self/ns/ipc; cat /etc/resolv.conf; ls /proc | grep -c '^[0-9]'; /kltest http-ok 8080"]
    ports: [{containerPort: 8080, hostPort: $hp}]
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 40 "both pods are Running" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '[.items[] | select(.status.phase==\"Running\")] | length')\" = 2 ]"
suid=$(pod_field sec-testnode .metadata.uid)
log() { cut -d' ' -f4- "$KL_LOGS/default_$1-testnode_$2/$3/0.log"; }
sleep 1
out=$(log sec "$suid" restricted)
check "runAsUser from the pod securityContext (uid 1000)" bash -c "head -1 <<<'$out' | grep -qx 1000"
check "runAsGroup (gid 3000)" bash -c "sed -n 2p <<<'$out' | grep -qx 3000"
check "capabilities drop ALL: CapEff 0" grep -q "CapEff:.*0000000000000000" <<<"$out"
check "allowPrivilegeEscalation false: NoNewPrivs 1" grep -qE "NoNewPrivs:[[:space:]]+1" <<<"$out"
check "seccompProfile RuntimeDefault: Seccomp 2 (filter)" grep -qE "Seccomp:[[:space:]]+2" <<<"$out"
check "readOnlyRootFilesystem" grep -q rootfs-readonly <<<"$out"
check "emptyDir medium Memory is a tmpfs" grep -q "cache=tmpfs" <<<"$out"
check "...sized by sizeLimit (8Mi)" bash -c "grep -E '^tmpfs +8192 ' <<<'$out' >/dev/null"
pout=$(log sec "$suid" priv)
bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
check "privileged: every capability the host has (CapEff = host CapBnd $bnd)" grep -qE "CapEff:[[:space:]]+$bnd" <<<"$pout"
check "default seccomp is Unconfined (Seccomp 0), as upstream" grep -qE "Seccomp:[[:space:]]+0" <<<"$pout"

nuid=$(pod_field ns-testnode .metadata.uid)
nout=$(log ns "$nuid" c)
check "hostname from spec.hostname" bash -c "head -1 <<<'$nout' | grep -qx myhost"
check "hostIPC shares the host's IPC namespace" bash -c "sed -n 2p <<<'$nout' | grep -qxF '$(readlink /proc/self/ns/ipc)'"
check "dnsPolicy None: nameserver from dnsConfig" grep -qx "nameserver 192.0.2.53" <<<"$nout"
check "dnsConfig searches" grep -q "^search example.test" <<<"$nout"
check "dnsConfig options" grep -q "^options ndots:2" <<<"$nout"
nproc_c=$(grep -E '^[0-9]+$' <<<"$nout" | tail -1)
check "hostPID sees the host's processes ($nproc_c)" test "${nproc_c:-0}" -gt 10
wait_for 10 "hostPort $hp on the node forwards to the pod (portmap)" bash -c "curl -fs --max-time 2 http://127.0.0.1:$hp/ | grep -q ok"

rm "$KL_MANIFESTS/sec.yaml"
wait_for 20 "memory-backed emptyDir is unmounted with its pod" bash -c "! grep -q '$suid' /proc/self/mounts"
kl_finish
