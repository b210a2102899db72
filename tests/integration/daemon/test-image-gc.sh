#!/bin/bash
# Image garbage collection on a real small filesystem: containerd's root
# (content and snapshots) and kubelet-lite's root-dir share a 96 MiB tmpfs.
#  1. Usage over imageGCHighThresholdPercent: the unused images are removed;
#     the images of a running and of an exited container, a preloaded one
#     (imagePreloadDir) and the sandbox (pause) image are kept; the node gets
#     FreeDiskSpaceFailed when it cannot reach the low threshold, and
#     kubelet_image_garbage_collected_total counts the removals.
#  2. Periodic GC off (imageGCHighThresholdPercent: 100), an unused image
#     pushes nodefs.available under evictionHard: the eviction manager has
#     the unused image removed first, the pressure goes, no pod is evicted.
. "$(dirname "$0")/../../lib/lib.sh"
disk=$(mktemp -d /tmp/kl-imagegc.XXXXXX)
mount -t tmpfs -o size=96m tmpfs "$disk" || { echo "FAIL - cannot mount a tmpfs"; exit 1; }
KL_CONTAINERD_ROOT=$disk/containerd
kl_setup
trap 'kl_cleanup; umount -l "$disk"; rmdir "$disk"' EXIT
KL_ROOT=$disk/root
KL_LOGS=$disk/pods
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
case $arch in armhf) arch=arm ;; esac
kltest=$BUILD/image-build/$arch/kltest
[ -x "$kltest" ] || { echo "FAIL - $kltest missing (make images)"; exit 1; }

# mkvariant NAME MIB OUT: a distinct image (its own random blob, so its own
# id) with /kltest as entrypoint, written as an OCI archive.
mkvariant() {
        local r
        r=$(mktemp -d "$KL_TMP/rootfs.XXXXXX")
        cp "$kltest" "$r/kltest"
        head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$r/blob"
        "$KL_TOP/busybox-image/mkimage" -r "$r" -n "localhost/gc/$1:1" -a "$arch" -e /kltest -c sleep -o "$3"
        rm -rf "$r"
}
import() { $CTR images import "$1" >/dev/null; }
have_image() { $CTR images ls -q | grep -qx "localhost/gc/$1:1"; }
avail_pct() { df --output=avail,size "$disk" | awk 'NR==2 {print int($1 * 100 / $2)}'; }
used_pct() { df --output=pcent "$disk" | awk 'NR==2 {gsub("%",""); print $1}'; }

mkdir -p "$KL_TMP/preload"
for v in old1 old2 run exited; do mkvariant $v 6 "$KL_TMP/$v.tar" && import "$KL_TMP/$v.tar"; done
mkvariant pre 6 "$KL_TMP/preload/pre.tar"
check "the test images are in containerd" bash -c "$CTR images ls -q | grep -c '^localhost/gc/' | grep -qx 4"

pod() { # name command restartPolicy
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  restartPolicy: $3
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: localhost/gc/$1:1
    imagePullPolicy: Never
    command: $2
YAML
}
pod run '["/kltest", "sleep"]' Always >"$KL_MANIFESTS/run.yaml"
pod exited '["/kltest", "exit", "0"]' Never >"$KL_MANIFESTS/exited.yaml"

# Phase 1: thresholds below the usage the images make (each test image is
# about 12 MiB on the tmpfs: 6 MiB of content, 6 MiB unpacked).
u=$(used_pct)
high=$((u - 10))
echo "# tmpfs ${u}% used before kubelet-lite starts; imageGCHighThresholdPercent $high, low 5"
kl_config <<YAML
imagePreloadDir: $KL_TMP/preload
imageGCHighThresholdPercent: $high
imageGCLowThresholdPercent: 5
imageMinimumGCAge: 1m
evictionHard: {nodefs.available: 1%}
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "the preloaded image is imported" have_image pre
wait_for 10 "...with its size and duration in the log" grep -Eq "preloaded the images of 'pre.tar' \([0-9]+ bytes in [0-9.]+s\)" "$KL_TMP/kubelet-lite.log"
check "...and a node event ImagesPreloaded" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '[.items[] | select(.reason==\"ImagesPreloaded\" and (.message | test(\"pre.tar.*[0-9]+ bytes.* in [0-9.]+s\")))] | length == 1' >/dev/null"
wait_for 30 "a pod runs" pod_is run-testnode .status.phase Running
wait_for 30 "a pod's container exited" pod_is exited-testnode .status.phase Succeeded
# the first GC runs 30 s after start
wait_for 60 "over the high threshold, image GC removes an old unused image" bash -c "! $CTR images ls -q | grep -qx localhost/gc/old1:1"
wait_for 20 "...and the other" bash -c "! $CTR images ls -q | grep -qx localhost/gc/old2:1"
wait_for 20 "...and logs what it freed" grep -Eq "image GC: removed [0-9]+ images \(.*'localhost/gc/old[12]:1'.*\), [0-9]+ bytes by image size; the image filesystem gained [0-9]+ bytes" "$KL_TMP/kubelet-lite.log"
check "...one line per image, with its size" grep -Eq "image GC: removed image 'localhost/gc/old1:1' \(sha256:[0-9a-f]+\) to free [0-9]+ bytes \(disk usage\)" "$KL_TMP/kubelet-lite.log"
check "the image of the running container is kept" have_image run
check "the image of the exited container is kept" have_image exited
check "the preloaded image is kept" have_image pre
check "the sandbox (pause) image is kept" bash -c "$CTR images ls -q | grep -qx localhost/kubelet-lite/pause:1.0"
check "...the log says why" grep -q "image GC: the sandbox image 'localhost/kubelet-lite/pause:1.0' is never removed" "$KL_TMP/kubelet-lite.log"
check "the unused base images went too (busybox)" bash -c "! $CTR images ls -q | grep -qx localhost/kubelet-lite/busybox:1.0"
check "5% cannot be reached: FreeDiskSpaceFailed on the node" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/events | jq -e '[.items[] | select(.reason==\"FreeDiskSpaceFailed\" and .involvedObject.kind==\"Node\")] | length > 0' >/dev/null"
check "kubelet_image_garbage_collected_total{reason=\"space\"} counts them" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | grep -Eq '^kubelet_image_garbage_collected_total\\{reason=\"space\"\\} [4-9]'"
check "the pods keep running" pod_is run-testnode .status.phase Running
echo "# tmpfs $(used_pct)% used after image GC"

# Phase 2: periodic GC off; an unused image pushes nodefs.available under
# evictionHard. Without the reclaim a pod would be evicted.
kl_stop TERM
a0=$(avail_pct)
mkvariant fill 10 "$KL_TMP/fill.tar" && import "$KL_TMP/fill.tar"
rm -f "$KL_TMP/fill.tar"
a1=$(avail_pct)
thr=$(((a0 + a1) / 2))
echo "# available ${a0}% before the fill image, ${a1}% with it; evictionHard nodefs.available<${thr}%"
check "the fill image crosses the eviction threshold ($a1% < $thr% <= $a0%)" test "$a1" -lt "$thr"
kl_config <<YAML
imagePreloadDir: $KL_TMP/preload
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 80
evictionHard: {nodefs.available: ${thr}%}
evictionPressureTransitionPeriod: 2s
YAML
kl_start || { not_ok "kubelet-lite restarts"; kl_finish; }
check "periodic image GC is off at 100%" grep -q "imageGCHighThresholdPercent is 100, periodic image garbage collection is off" "$KL_TMP/kubelet-lite.log"
wait_for 30 "disk pressure: the eviction manager reclaims images first" grep -q "image GC: nodefs.available is under its eviction threshold, reclaiming unused images before evicting pods" "$KL_TMP/kubelet-lite.log"
wait_for 30 "...the unused image is removed" bash -c "! $CTR images ls -q | grep -qx localhost/gc/fill:1"
wait_for 30 "...DiskPressure clears" grep -q "node condition DiskPressure is now False" "$KL_TMP/kubelet-lite.log"
check "...and no pod was evicted" bash -c "! grep -q 'evicted:' '$KL_TMP/kubelet-lite.log'"
check "the running pod still runs" pod_is run-testnode .status.phase Running
check "the in-use, exited and preloaded images are still kept" bash -c "$CTR images ls -q | grep -c -e '^localhost/gc/run:1$' -e '^localhost/gc/exited:1$' -e '^localhost/gc/pre:1$' | grep -qx 3"
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
