# shellcheck shell=bash
# Helpers for shell integration tests: checks, waiting, a private containerd
# and a kubelet-lite instance under a temp directory.
#
#   . tests/lib/lib.sh
#   kl_setup [--cni]          # temp dir, containerd, images imported
#   kl_start [ARGS...]        # kubelet-lite on $KL_MANIFESTS, ports chosen
#   check "what" CMD...       # one assertion
#   kl_finish                 # prints "N passed, N failed", cleans up, exits
set -u
KL_TOP=${KL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export KL_TOP
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$KL_TOP/$BUILD" ;; esac
export BUILD
KL_BIN=${KL_BIN:-$BUILD/kubelet-lite}
. "$KL_TOP/tests/lib/containerd.sh"

kl_passed=0
kl_failed=0
KL_PID=""

ok() { kl_passed=$((kl_passed + 1)); echo "ok - $*"; }
not_ok() { kl_failed=$((kl_failed + 1)); echo "FAIL - $*"; }

# check "description" command args... : passes when the command succeeds
check() {
        local what=$1; shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# matches VALUE REGEX (bash ERE)
matches() { [[ $1 =~ $2 ]]; }

# wait_for SECONDS "description" command args... : poll every 0.2 s
wait_for() {
        local timeout=$1 what=$2; shift 2
        local deadline=$((SECONDS + timeout))
        while [ $SECONDS -lt "$deadline" ]; do
                if "$@" 2>/dev/null; then ok "$what"; return 0; fi
                sleep 0.2
        done
        not_ok "$what (timed out after ${timeout}s)"
        return 1
}

free_port() {
        local p
        while :; do
                # below the kernel's ephemeral range (32768-60999)
                p=$((20000 + RANDOM % 12000))
                ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
        done
}

kl_setup() {
        KL_TMP=$(mktemp -d /tmp/kl-test.XXXXXX)
        export KL_TMP
        KL_MANIFESTS=$KL_TMP/manifests
        KL_ROOT=$KL_TMP/root
        KL_LOGS=$KL_TMP/pods
        mkdir -p "$KL_MANIFESTS"
        trap 'kl_cleanup' EXIT
        trap 'exit 130' INT TERM
        kl_containerd_start "$KL_TMP/containerd" "$@" || { echo "FAIL - containerd did not start"; exit 1; }
        CTR="ctr --address $KL_CONTAINERD_DIR/containerd.sock -n k8s.io"
}

# Write a KubeletConfiguration for the test; extra YAML lines on stdin.
kl_config() {
        KL_CONFIG=$KL_TMP/kubelet-lite.yaml
        {
                echo "apiVersion: kubelet.config.k8s.io/v1beta1"
                echo "kind: KubeletConfiguration"
                echo "podLogsDir: $KL_LOGS"
                echo "containerLogLinksDir: $KL_TMP/containers"
                echo "cgroupsPerQOS: false"
                echo "fileCheckFrequency: 2s"
                cat
        } >"$KL_CONFIG"
}

kl_start() {
        [ -n "${KL_CONFIG:-}" ] || kl_config </dev/null
        local try i
        for try in 1 2 3; do
                KL_HEALTHZ_PORT=${KL_HEALTHZ_PORT:-$(free_port)}
                KL_RO_PORT=${KL_RO_PORT:-$(free_port)}
                "$KL_BIN" --config "$KL_CONFIG" --pod-manifest-path "$KL_MANIFESTS" \
                        --container-runtime-endpoint "$KL_CRI_ENDPOINT" --root-dir "$KL_ROOT" \
                        --hostname-override testnode --healthz-port "$KL_HEALTHZ_PORT" \
                        --read-only-port "$KL_RO_PORT" --v 2 "$@" >>"$KL_TMP/kubelet-lite.log" 2>&1 &
                KL_PID=$!
                for i in $(seq 1 100); do
                        curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz" >/dev/null 2>&1 && return 0
                        kill -0 "$KL_PID" 2>/dev/null || break
                        sleep 0.1
                done
                # A port taken by someone else between free_port and bind: try others.
                if ! kill -0 "$KL_PID" 2>/dev/null && tail -3 "$KL_TMP/kubelet-lite.log" | grep -q "Address already in use"; then
                        KL_HEALTHZ_PORT="" KL_RO_PORT=""
                        continue
                fi
                break
        done
        echo "kubelet-lite did not become healthy; log:"
        tail -30 "$KL_TMP/kubelet-lite.log"
        return 1
}

kl_stop() { # [signal]
        [ -n "$KL_PID" ] || return 0
        kill "-${1:-TERM}" "$KL_PID" 2>/dev/null
        wait "$KL_PID" 2>/dev/null
        KL_PID=""
}

pods_json() { curl -fs "http://127.0.0.1:$KL_RO_PORT/pods"; }

# jq over /pods: pods_jq FILTER -> prints the result
pods_jq() { pods_json | jq -r "$@"; }

# pod_field POD JQPATH: one field of the pod named POD (metadata.name)
pod_field() { pods_json | jq -r --arg n "$1" ".items[] | select(.metadata.name==\$n) | $2"; }

# pod_is POD JQPATH VALUE
pod_is() { [ "$(pod_field "$1" "$2")" = "$3" ]; }

kl_cleanup() {
        # Let kubelet-lite remove its pods, so CNI teardown, tmpfs volumes and
        # cgroups are undone the normal way before containerd is stopped.
        if [ -n "$KL_PID" ] && kill -0 "$KL_PID" 2>/dev/null && [ -d "${KL_MANIFESTS:-}" ]; then
                rm -f "$KL_MANIFESTS"/* 2>/dev/null
                local i
                for i in $(seq 1 100); do
                        [ -z "$($CTR containers ls -q 2>/dev/null)" ] && break
                        sleep 0.2
                done
        fi
        kl_stop TERM
        kl_containerd_stop
        awk -v d="$KL_TMP" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        if [ "${KL_KEEP:-}" = 1 ]; then
                echo "kept $KL_TMP"
        else
                rm -rf "$KL_TMP"
        fi
}

kl_finish() {
        if [ "$kl_failed" -gt 0 ] && [ -f "$KL_TMP/kubelet-lite.log" ]; then
                echo "--- kubelet-lite log (last 60 lines)"
                tail -60 "$KL_TMP/kubelet-lite.log"
        fi
        echo "$kl_passed passed, $kl_failed failed"
        [ "$kl_failed" -eq 0 ]
        exit $?
}
