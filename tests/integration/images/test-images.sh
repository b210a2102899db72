#!/bin/sh
# Integration test of busybox-image/: the OCI archives are reproducible,
# containerd imports them, and the programs inside behave.
#
# Needs root, containerd, ctr and runc. Starts its own private containerd
# (tests/lib/containerd.sh) and removes everything it started on exit.
set -u

KL_TOP=${KL_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$KL_TOP" || exit 1
BUILD=${BUILD:-build}
export KL_TOP BUILD

passed=0 failed=0
ok() { echo "ok $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # description, command...
        d=$1
        shift
        if "$@"; then ok "$d"; else fail "$d"; fi
}

if [ "$(id -u)" != 0 ] || ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
        echo "skip: needs root, containerd and ctr"
        exit 77
fi

IMAGES="pause busybox testbox"
tmp=$(mktemp -d /tmp/kl-test-images.XXXXXX)
bg_pids=""

# shellcheck source=../../lib/containerd.sh
. tests/lib/containerd.sh

cleanup() {
        for p in $bg_pids; do
                kill "$p" 2>/dev/null
        done
        kl_containerd_stop
        # ctr --cgroup "" puts a task in /<id> of each controller; runc removes
        # it, unless a task was killed half way.
        for d in /sys/fs/cgroup/*/kltest-img-* /sys/fs/cgroup/kltest-img-*; do
                [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- 1. reproducible -------------------------------------------------------
if make --no-print-directory images BUILD="$BUILD" >"$tmp/make1.log" 2>&1; then
        ok "make images into $BUILD"
else
        fail "make images into $BUILD"
        cat "$tmp/make1.log"
fi
if make --no-print-directory images BUILD="$tmp/build2" >"$tmp/make2.log" 2>&1; then
        ok "make images into a fresh temp BUILD"
else
        fail "make images into a fresh temp BUILD"
        cat "$tmp/make2.log"
fi
for img in $IMAGES; do
        a=$(sha256sum "$BUILD/images/$img.tar" 2>/dev/null | cut -d' ' -f1)
        b=$(sha256sum "$tmp/build2/images/$img.tar" 2>/dev/null | cut -d' ' -f1)
        if [ -n "$a" ] && [ "$a" = "$b" ]; then
                ok "$img.tar is byte-identical across builds (sha256 ${a%"${a#????????????}"})"
        else
                fail "$img.tar differs across builds: '$a' vs '$b'"
        fi
done
rm -rf "$tmp/build2"

# The layout itself: entries, the ref annotation, and the layer digests.
for img in $IMAGES; do
        f=$BUILD/images/$img.tar
        x=$tmp/layout-$img
        mkdir -p "$x" && tar -xf "$f" -C "$x" 2>/dev/null
        ref="localhost/kubelet-lite/$img:1.0"
        check "$img.tar has oci-layout and index.json" test -f "$x/oci-layout" -a -f "$x/index.json"
        check "$img.tar index.json names '$ref'" \
                grep -q "\"org.opencontainers.image.ref.name\":\"$ref\"" "$x/index.json"
        bad=0
        for blob in "$x"/blobs/sha256/*; do
                [ "$(sha256sum "$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || bad=1
        done
        check "$img.tar blobs match their digests" test $bad = 0
        owners=$(tar -tvf "$f" | awk '{print $2}' | sort -u)
        check "$img.tar outer entries are owned by 0/0" test "$owners" = "0/0"
done

# --- 2. import -------------------------------------------------------------
if ! kl_containerd_start "$tmp/containerd"; then
        fail "private containerd starts and imports $BUILD/images/*.tar"
        echo "$passed passed, $failed failed"
        exit 1
fi
ok "private containerd starts and imports $BUILD/images/*.tar"
sock=$KL_CONTAINERD_DIR/containerd.sock
kctr() { timeout 60 ctr --address "$sock" -n k8s.io "$@"; }

kctr images ls -q >"$tmp/refs" 2>&1
for img in $IMAGES; do
        check "ctr images ls shows localhost/kubelet-lite/$img:1.0" \
                grep -qx "localhost/kubelet-lite/$img:1.0" "$tmp/refs"
done

# --- 3. run ----------------------------------------------------------------
# crun id image [args...]: output in $tmp/<id>.out, returns the task's exit
# code. Extra ctr run options (a mount) come in $crun_opts.
crun_opts=""
crun() {
        id=$1 image=$2
        shift 2
        # shellcheck disable=SC2086
        kctr run --rm --cgroup "" $crun_opts "localhost/kubelet-lite/$image:1.0" "$id" "$@" \
                >"$tmp/$id.out" 2>&1
}

crun kltest-img-exit testbox /kltest exit 7
rc=$?
check "testbox 'kltest exit 7' exits 7 (got $rc)" test $rc = 7
check "testbox 'kltest exit 7' prints its start line" grep -q '^kltest: exit 7' "$tmp/kltest-img-exit.out"

: >"$tmp/termination-log"
crun_opts="--mount type=bind,src=$tmp/termination-log,dst=/dev/termination-log,options=rbind:rw"
crun kltest-img-term testbox /kltest termination-message 'bye from kltest'
rc=$?
crun_opts=""
check "testbox 'kltest termination-message' exits 3 (got $rc)" test $rc = 3
check "testbox 'kltest termination-message' wrote /dev/termination-log" \
        test "$(cat "$tmp/termination-log")" = "bye from kltest"

crun kltest-img-bb busybox sh -c 'echo hello from $(busybox | head -n1 | cut -d" " -f1); ls /bin | wc -l'
rc=$?
check "busybox 'sh -c' runs and exits 0 (got $rc)" test $rc = 0
check "busybox image prints from sh" grep -q '^hello from BusyBox' "$tmp/kltest-img-bb.out"

crun kltest-img-help testbox /kltest --help
check "testbox 'kltest --help' lists the memhog mode" grep -q 'memhog' "$tmp/kltest-img-help.out"

# Long-running tasks: run in the foreground of a background ctr, then SIGTERM.
wait_running() { # id
        i=0
        while [ $i -lt 100 ]; do
                kctr tasks ls 2>/dev/null | grep -q "^$1 .*RUNNING" && return 0
                sleep 0.1
                i=$((i + 1))
        done
        return 1
}
term_and_wait() { # id, pid -> exit code of ctr run, or 124 on a timeout
        kctr tasks kill -s TERM "$1" >/dev/null 2>&1
        i=0
        while kill -0 "$2" 2>/dev/null; do
                [ $i -lt 100 ] || { kctr tasks kill -s KILL "$1" >/dev/null 2>&1; wait "$2"; return 124; }
                sleep 0.1
                i=$((i + 1))
        done
        wait "$2"
}

crun kltest-img-pause pause &
pid=$!
bg_pids="$bg_pids $pid"
check "pause starts and keeps running" wait_running kltest-img-pause
term_and_wait kltest-img-pause $pid
rc=$?
check "pause exits 0 on SIGTERM (got $rc)" test $rc = 0

crun kltest-img-sleep testbox &
pid=$!
bg_pids="$bg_pids $pid"
check "testbox default command (kltest sleep) keeps running" wait_running kltest-img-sleep
term_and_wait kltest-img-sleep $pid
rc=$?
check "testbox 'kltest sleep' exits 0 on SIGTERM (got $rc)" test $rc = 0
check "testbox 'kltest sleep' printed its start line" grep -q '^kltest: sleep' "$tmp/kltest-img-sleep.out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
