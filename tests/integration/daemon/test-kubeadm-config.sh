#!/bin/bash
# A kubeadm-generated /var/lib/kubelet/config.yaml (tests/data/config/,
# written by hand in the shape `kubeadm init` writes it): zero values mean
# upstream's defaults, the keys we do not implement make one summary warning,
# cgroupDriver: systemd is refused naming the fix, and with only that key
# changed the daemon starts and idles under 0.5% of a CPU (fileCheckFrequency:
# 0s once made it spin at 73%). Also klog's -v spellings.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
KUBEADM=$KL_TOP/tests/data/config/kubeadm-kubelet-config.yaml

# 1. as kubeadm writes it: refused at once, naming the key and the fix
out=$("$KL_BIN" --config "$KUBEADM" --pod-manifest-path "$KL_MANIFESTS" --root-dir "$KL_ROOT" \
        --container-runtime-endpoint "$KL_CRI_ENDPOINT" --healthz-port 0 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
check "cgroupDriver: systemd: exits with status 1" test "$rc" = 1
check "...naming file:line:col, the key and the fix" matches "$out" "kubeadm-kubelet-config.yaml:15:15: cgroupDriver: 'systemd' is not supported: .*set cgroupDriver: cgroupfs"

# 2. only cgroupDriver changed (plus where this test keeps pod logs and no
# kubepods cgroups on the shared host): starts and idles
KL_CONFIG=$KL_TMP/config.yaml
sed 's/^cgroupDriver: systemd$/cgroupDriver: cgroupfs/' "$KUBEADM" >"$KL_CONFIG"
printf 'podLogsDir: %s\ncontainerLogLinksDir: %s\ncgroupsPerQOS: false\n' "$KL_LOGS" "$KL_TMP/containers" >>"$KL_CONFIG"
check "the test's copy differs from kubeadm's in cgroupDriver only (and 3 test lines)" \
        test "$(diff "$KUBEADM" "$KL_CONFIG" | grep -c '^[<>]')" = 5
kl_start -v=0 || { not_ok "kubelet-lite starts with the kubeadm config"; kl_finish; }
ok "kubelet-lite starts with the kubeadm config"
check "exactly one warning line about the config" test "$(grep -c 'config:' "$KL_TMP/kubelet-lite.log")" = 1
grep 'config:' "$KL_TMP/kubelet-lite.log" | sed 's/^/  | /'
check "...the summary lists the unsupported keys" grep -q "ignoring 15 keys kubelet-lite does not implement: authentication, authorization, clusterDNS" "$KL_TMP/kubelet-lite.log"
check "no other warning or error at start" test "$(grep -c -E 'warning|error' "$KL_TMP/kubelet-lite.log")" = 1
check "-v=0 (klog's single-dash form) after lib.sh's --v 2: no debug lines" test "$(grep -c ' debug ' "$KL_TMP/kubelet-lite.log")" = 0

cat >"$KL_MANIFESTS/idle.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: idle}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "sleep"]
YAML
wait_for 30 "a static pod runs (fileCheckFrequency: 0s still reads the directory)" pod_is idle-testnode .status.phase Running
ticks() { awk '{print $14 + $15}' "/proc/$KL_PID/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep 20
t1=$(ticks); s1=$(date +%s.%N)
pct=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / (s1 - s0) }')
check "idles under 0.5% of a CPU with one pod (measured ${pct}% over 20 s)" awk -v p="$pct" 'BEGIN { exit !(p < 0.5) }'
check "kubelet-lite never exited" kill -0 "$KL_PID"

# 3. klog's -v spellings
for v in "-v 4" "-v=4" "-v4" "--v=4" "--v 4"; do
        # shellcheck disable=SC2086
        check "'$v' is accepted" "$KL_BIN" $v --version
done
out=$("$KL_BIN" -v=lots --version 2>&1)
check "a bad level is refused: $out" matches "$out" "invalid verbosity 'lots'"

# 4. GCE-style *.manifest files: validate says the daemon would skip them;
# manifestSuffixes in the config makes both read them
G=$KL_TMP/gce
mkdir -p "$G"
sed 's/name: idle/name: gce/' "$KL_MANIFESTS/idle.yaml" >"$G/kube-proxy.manifest"
out=$("$KL_BIN" validate --node-name testnode "$G/kube-proxy.manifest" 2>&1)
check "validate FILE: notes that the daemon would skip a *.manifest" matches "$out" "note: the daemon would skip .*kube-proxy.manifest in its manifest directory: not a .yaml, .yml or .json file"
out=$("$KL_BIN" validate --node-name testnode "$G" 2>&1)
check "validate DIR: lists it as skipped" matches "$out" "skipped .*kube-proxy.manifest: not a .yaml, .yml or .json file"
printf 'manifestSuffixes: [.yaml, .manifest]\n' >>"$KL_CONFIG"
out=$("$KL_BIN" validate --config "$KL_CONFIG" --node-name testnode "$G" 2>&1)
check "validate --config with manifestSuffixes reads it" matches "$out" "pod gce-testnode .*valid: 1 pods in 1 files"
cp "$G/kube-proxy.manifest" "$KL_MANIFESTS/"
kl_stop
kl_start || not_ok "restarts with manifestSuffixes"
wait_for 30 "the daemon runs the *.manifest pod" pod_is gce-testnode .status.phase Running
kl_finish
