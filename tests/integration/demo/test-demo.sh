#!/bin/bash
# The README's demo command: a private containerd, kubelet-lite and the sample
# manifests; it prints the pods as a table and, when stopped, leaves nothing
# behind (no containers, processes, mounts or directories). Runs the demo
# script and stops it with SIGTERM: it traps INT (Ctrl-C) and TERM alike, but a
# background job of a non-interactive shell starts with SIGINT ignored, which
# no shell can trap, so a test cannot use INT.
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top"
passed=0 failed=0
check() { local w=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok - $w"; else failed=$((failed + 1)); echo "FAIL - $w"; fi; }
dir=$(mktemp -d /tmp/kl-demo.XXXXXX)
rmdir "$dir"
out=$(mktemp)
KL_DEMO_DIR=$dir KL_DEMO_PORT=$((20000 + RANDOM % 6000)) KL_DEMO_HEALTHZ_PORT=$((26000 + RANDOM % 6000)) \
        scripts/demo >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
        [ "$(grep -c ' Running ' "$out")" -ge 2 ] && break
        sleep 0.5
done
check "the demo starts its containerd and kubelet-lite" grep -q "kubelet-lite is running" "$out"
check "it tells how to add and remove a manifest" grep -q "Add a pod:" "$out"
check "the table shows the sample pods Running" bash -c "tail -4 '$out' | grep -c ' Running ' | grep -qx 2"
check "the table has its header" grep -q "^NAME *PHASE *READY *RESTARTS" "$out"
sock="$dir/containerd/containerd.sock"
check "the demo's containerd is private (socket under its work dir)" test -S "$sock"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "stopping it (Ctrl-C/SIGTERM) is clean (exit $rc)" test "$rc" = 0
check "it says everything is gone" grep -q "^Done:" "$out"
check "no work directory left" test ! -e "$dir"
no_procs() { sleep 1; ! pgrep -f "$dir/" >/dev/null; } # a function: a bash -c would match itself
check "no process left (containerd, shims, kubelet-lite)" no_procs
check "no mount left" bash -c "! grep -q '$dir' /proc/self/mounts"
check "the host's containerd socket was never created" bash -c "[ -S /run/containerd/containerd.sock ] && [ -n \"\$(pgrep -f 'containerd --config /etc')\" ] || [ ! -S /run/containerd/containerd.sock ]"
rm -f "$out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
