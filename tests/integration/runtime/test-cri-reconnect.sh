#!/bin/bash
# The CRI client survives containerd stopping and restarting (calls in flight
# fail, calls while it is down fail fast or wait, calls after it is back work).
# Starts its own containerd, because it restarts it; the C half is
# build/tests/helpers/runtime/cri-reconnect.
set -u
KL_TOP=$(cd "$(dirname "$0")/../../.." && pwd)
export KL_TOP
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$KL_TOP/$BUILD ;; esac
helper=$BUILD/tests/helpers/runtime/cri-reconnect
if [ ! -x "$helper" ]; then
        echo "skip: $helper not built (make tests)"
        exit 77
fi
. "$KL_TOP/tests/lib/containerd.sh"

dir=$(mktemp -d /tmp/kl-containerd.XXXXXX)
cleanup() {
        # The helper restarted containerd: stop the current one, not the first.
        KL_CONTAINERD_PID=$(cat "$dir/containerd.pid" 2>/dev/null)
        kl_containerd_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
kl_containerd_start "$dir" || exit 1
export KL_CRI_CTL="$KL_TOP/tests/integration/runtime/containerd-ctl.sh"
"$helper"
