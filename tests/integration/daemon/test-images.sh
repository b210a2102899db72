#!/bin/bash
# Images on an offline box: pull policies and their reasons, the fallback to a
# local image when a pull fails (beyond upstream), and imagePreloadDir.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup

# An image only the preload dir has: remove busybox from containerd first.
mkdir -p "$KL_TMP/preload"
cp "$BUILD/images/busybox.tar" "$KL_TMP/preload/"
$CTR images rm localhost/kubelet-lite/busybox:1.0 >/dev/null
check "busybox is not in containerd before kubelet-lite starts" bash -c "! $CTR images ls -q | grep -q busybox"
kl_config <<YAML
imagePreloadDir: $KL_TMP/preload
crashLoopBackOff: {initialContainerRestartPeriod: 1s, maxContainerRestartPeriod: 2s}
YAML

pod() { # name image policy
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: "$2", imagePullPolicy: $3, command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]}
YAML
}
pod latest localhost/kubelet-lite/testbox:1.0 Always >"$KL_MANIFESTS/latest.yaml"
pod missing localhost/kubelet-lite/missing:1.0 IfNotPresent >"$KL_MANIFESTS/missing.yaml"
pod never localhost/kubelet-lite/missing:1.0 Never >"$KL_MANIFESTS/never.yaml"
pod preloaded localhost/kubelet-lite/busybox:1.0 Never >"$KL_MANIFESTS/preloaded.yaml"

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "Always + failed pull + local image: runs the local image (imagePullFallbackToLocal)" pod_is latest-testnode .status.phase Running
check "...and says so in the log" grep -q "using the local image (imagePullFallbackToLocal)" "$KL_TMP/kubelet-lite.log"
wait_for 30 "IfNotPresent + missing image: ErrImagePull or ImagePullBackOff" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"missing-testnode\") | .status.containerStatuses[0].state.waiting.reason' | grep -qE '^(ErrImagePull|ImagePullBackOff)$'"
wait_for 20 "...then ImagePullBackOff" pod_is missing-testnode '.status.containerStatuses[0].state.waiting.reason' ImagePullBackOff
wait_for 10 "Never + missing image: ErrImageNeverPull" pod_is never-testnode '.status.containerStatuses[0].state.waiting.reason' ErrImageNeverPull
wait_for 30 "an image from imagePreloadDir is imported at start and its pod runs" pod_is preloaded-testnode .status.phase Running
check "the import is remembered in root-dir" grep -q '^busybox.tar ' "$KL_ROOT/preloaded-images"

# Without the fallback, upstream's behaviour: the pull error shows.
kl_stop TERM
rm -f "$KL_MANIFESTS"/*.yaml
sleep 0.5
kl_start || not_ok "kubelet-lite restarts"
wait_for 30 "pods removed" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items | length')\" = 0 ] && [ -z \"\$($CTR containers ls -q)\" ]"
kl_stop TERM
KL_CONFIG=""
kl_config <<YAML
imagePullFallbackToLocal: false
imagePreloadDir: $KL_TMP/preload
YAML
pod latest2 localhost/kubelet-lite/testbox:1.0 Always >"$KL_MANIFESTS/latest2.yaml"
kl_start || not_ok "kubelet-lite restarts"
check "a second start does not import the same archive again" test "$(grep -c "preloading images from" "$KL_TMP/kubelet-lite.log")" = 1
wait_for 30 "imagePullFallbackToLocal: false + failed pull: ErrImagePull/ImagePullBackOff as upstream" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[0].status.containerStatuses[0].state.waiting.reason' | grep -qE '^(ErrImagePull|ImagePullBackOff)$'"
check "...and the pod is not running" pod_is latest2-testnode .status.phase Pending

# A real pull from a registry on localhost: the Pulled event has upstream's
# wording (imageManager.EnsureImageExists), with the size from ImageStatus.
rport=$(free_port)
rpid=$("$KL_TOP/tests/integration/runtime/mini-registry.sh" "$KL_TMP/registry" "$rport" "$BUILD/images/busybox.tar" kl/pulled 1.0)
pod pulled "localhost:$rport/kl/pulled:1.0" Always >"$KL_MANIFESTS/pulled.yaml"
wait_for 60 "an image pulled from a registry: the pod runs" pod_is pulled-testnode .status.phase Running
size=$($CTR images ls | awk -v r="localhost:$rport/kl/pulled:1.0" '$1 == r {print $4, $5}')
msg=$(curl -fs "http://127.0.0.1:$KL_RO_PORT/events" | jq -r '.items[] | select(.involvedObject.name=="pulled-testnode" and .reason=="Pulled") | .message')
echo "# $msg (ctr: $size)"
check "...its Pulled event: 'Successfully pulled image \"...\" in D (D including waiting). Image size: N bytes.'" \
        bash -c "echo '$msg' | grep -qE '^Successfully pulled image \"localhost:$rport/kl/pulled:1.0\" in [0-9hm.]+s \([0-9hm.]+s including waiting\)\. Image size: [1-9][0-9]* bytes\.$'"
n=$(echo "$msg" | sed -n 's/.*Image size: \([0-9]*\) bytes\./\1/p')
check "...the size is the image's, as ctr shows it ($size)" test "$(awk -v n="$n" -v u="${size#* }" 'BEGIN {d = u == "B" ? 1 : u == "KiB" ? 1024 : u == "MiB" ? 1048576 : 1073741824; printf "%.1f %s", n / d, u}')" = "$size"
kill "$rpid" 2>/dev/null
kl_finish
