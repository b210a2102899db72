#!/bin/bash
# Fields of real-world static pods, run on containerd as upstream runs them:
# $(VAR) expansion in command/args/env, hostAliases in the kubelet-managed
# /etc/hosts, shareProcessNamespace, downwardAPI files and resourceFieldRef
# env, and an emptyDir a runAsUser: 1000 container can write (fsGroup too).
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
BB=localhost/kubelet-lite/busybox:1.0
TB=localhost/kubelet-lite/testbox:1.0
# a container that prints, then waits for SIGTERM
WAIT="trap 'exit 0' TERM; while true; do sleep 1; done"

cat >"$KL_MANIFESTS/expand.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: expand}
spec:
  hostNetwork: true
  containers:
  - name: c
    image: $BB
    command: ["sh", "-c"]
    args: ["echo 'args: \$(GREETING) escaped=\$\$(NAME) undefined=\$(NOPE)'; echo \"env: G=\$G LATE=\$LATE\"; $WAIT"]
    env:
    - {name: NAME, value: world}
    - {name: GREETING, value: "hello \$(NAME)"}
    - {name: G, value: "\$(GREETING)! \$\$(NAME) \$(LATER)"}
    - {name: LATER, value: late}
    - {name: LATE, value: "\$(LATER)"}
YAML

cat >"$KL_MANIFESTS/vip.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vip}
spec:
  hostNetwork: true
  hostAliases:
  - ip: 10.9.8.7
    hostnames: [kubernetes, kube-vip.test]
  containers:
  - name: c
    image: $BB
    command: ["sh", "-c", "cat /etc/hosts; $WAIT"]
YAML

cat >"$KL_MANIFESTS/sharepid.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sharepid}
spec:
  hostNetwork: true
  shareProcessNamespace: true
  containers:
  - {name: sleeper, image: $TB, command: ["/kltest", "sleep"]}
  - name: looker
    image: $BB
    command: ["sh", "-c", "sleep 2; ps -o pid,args; $WAIT"]
YAML

cat >"$KL_MANIFESTS/downward.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: downward
  labels: {app: shop, tier: front}
  annotations: {build: "42"}
spec:
  hostNetwork: true
  containers:
  - name: c
    image: $BB
    resources: {limits: {memory: 64Mi, cpu: 500m}}
    command: ["sh", "-c", "for f in labels build name mem; do echo \"\$f=\$(cat /info/\$f | tr '\\\\n' ' ')\"; done; echo \"env: APP=\$APP MEM=\$MEM CPU=\$CPU\"; echo x > /info/new || echo read-only; $WAIT"]
    env:
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: build, fieldRef: {fieldPath: "metadata.annotations['build']"}}
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
YAML

cat >"$KL_MANIFESTS/nonroot.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  hostNetwork: true
  securityContext: {fsGroup: 2000}
  containers:
  - name: c
    image: $BB
    securityContext: {runAsUser: 1000}
    command: ["sh", "-c", "id; echo x > /data/f && echo write-ok; ls -ln /data/f; $WAIT"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: plain
    image: $BB
    securityContext: {runAsUser: 1001}
    command: ["sh", "-c", "echo y > /scratch/g && echo scratch-write-ok; $WAIT"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
  - {name: data, emptyDir: {}}
  - {name: scratch, emptyDir: {}}
YAML

# seccomp Localhost: relative to <root-dir>/seccomp; capabilities drop: [all]
mkdir -p "$KL_ROOT/seccomp/profiles"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' \
        >"$KL_ROOT/seccomp/profiles/no-mkdir.json"
cat >"$KL_MANIFESTS/hardened.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hardened}
spec:
  hostNetwork: true
  containers:
  - name: c
    image: $BB
    command: ["sh", "-c", "grep CapEff /proc/self/status; mkdir /tmp/x 2>/dev/null && echo mkdir-ok || echo mkdir-denied; $WAIT"]
    securityContext:
      capabilities: {drop: [all]}
      seccompProfile: {type: Localhost, localhostProfile: profiles/no-mkdir.json}
YAML

# the daemon runs under a restrictive umask, as some init systems set it
umask 077
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
umask 022

# log of container $2 of pod $1, without the CRI prefix "<time> stdout F "
clog() {
        local uid
        uid=$(pod_field "$1-testnode" .metadata.uid)
        cut -d' ' -f4- "$KL_LOGS/default_$1-testnode_$uid/$2/0.log" 2>/dev/null
}
logs_have() { clog "$1" "$2" | grep -qF -- "$3"; }
pid1_is_pause() { clog sharepid looker | grep -E '^ *1 ' | grep -q pause; }
file_group_is_fsgroup() { clog nonroot c | grep -- '-rw' | awk '{print $4}' | grep -qx 2000; }
first_host_entry_kept() {
        local line
        line=$(grep -v '^#' /etc/hosts | grep . | head -1)
        [ -n "$line" ] && grep -qF -- "$line" "$KL_ROOT/pods/$1/etc-hosts"
}

for p in expand vip sharepid downward nonroot hardened; do
        wait_for 40 "pod $p is Running" pod_is "$p-testnode" .status.phase Running
done

# $(VAR): args against the final env, env against the variables before it
wait_for 10 "args: \$(GREETING) expanded, \$\$ escaped, undefined kept" \
        logs_have expand c "args: hello world escaped=\$(NAME) undefined=\$(NOPE)"
check "env: \$(GREETING) expanded, \$(LATER) defined later is kept as is" \
        logs_have expand c "env: G=hello world! \$(NAME) \$(LATER) LATE=late"

# hostAliases in the managed /etc/hosts of a hostNetwork pod
wait_for 10 "/etc/hosts is kubelet-managed (host network)" \
        logs_have vip c "# Kubernetes-managed hosts file (host network)."
check "hostAliases entry: 10.9.8.7<TAB>kubernetes<TAB>kube-vip.test" \
        logs_have vip c "$(printf '10.9.8.7\tkubernetes\tkube-vip.test')"
vuid=$(pod_field vip-testnode .metadata.uid)
check "the node's own entries are kept" first_host_entry_kept "$vuid"

# shareProcessNamespace: one PID namespace, the pause process is PID 1
wait_for 15 "looker sees the sleeper's process" logs_have sharepid looker "/kltest sleep"
check "PID 1 is the sandbox's pause" pid1_is_pause

# downwardAPI files and resourceFieldRef env
wait_for 10 "downwardAPI labels file (FormatMap)" logs_have downward c 'labels=app="shop" tier="front"'
check "annotation by key" logs_have downward c "build=42"
check "metadata.name is the full static pod name" logs_have downward c "name=downward-testnode"
check "resourceFieldRef in a volume (64Mi / 1Mi)" logs_have downward c "mem=64"
check "fieldRef and resourceFieldRef env" logs_have downward c "env: APP=shop MEM=64 CPU=500"
check "the downwardAPI volume is read-only" logs_have downward c "read-only"

# emptyDir: 0777 despite the daemon's umask, group fsGroup with setgid
wait_for 10 "runAsUser 1000 writes to an emptyDir" logs_have nonroot c "write-ok"
check "its file is group-owned by fsGroup 2000 (setgid directory)" file_group_is_fsgroup
check "runAsUser 1001 writes to another emptyDir" logs_have nonroot plain "scratch-write-ok"
nuid=$(pod_field nonroot-testnode .metadata.uid)
check "emptyDir mode on the host is 2777" test "$(stat -c %a "$KL_ROOT/pods/$nuid/volumes/kubernetes.io~empty-dir/data")" = 2777

# seccomp profile found under <root-dir>/seccomp, and drop: [all] drops all
wait_for 10 "the Localhost seccomp profile from <root-dir>/seccomp applies (mkdir denied)" \
        logs_have hardened c "mkdir-denied"
check "drop: [all] in lower case drops every capability" logs_have hardened c "$(printf 'CapEff:\t0000000000000000')"

# /pods shows the new fields as upstream serializes them
check "/pods: spec.hostAliases" pod_is vip-testnode '.spec.hostAliases[0].hostnames | length > 0' true
check "/pods: spec.shareProcessNamespace" pod_is sharepid-testnode .spec.shareProcessNamespace true
check "/pods: a resourceFieldRef env keeps its divisor" pod_is downward-testnode \
        '.spec.containers[0].env[] | select(.name=="MEM") | .valueFrom.resourceFieldRef.resource + " " + .valueFrom.resourceFieldRef.divisor' "limits.memory 1Mi"
check "/pods: a downwardAPI volume with its items" pod_is downward-testnode \
        '.spec.volumes[] | select(.name=="info") | .downwardAPI.items[0].fieldRef.fieldPath' metadata.labels

check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
