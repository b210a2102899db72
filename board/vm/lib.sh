# shellcheck shell=dash
# (busybox ash: POSIX sh plus local, as dash)
# Helpers for scripts that run inside the board VM (busybox sh, jq, wget).
#
#   . "$BOARD_LIB"
#
# kubelet-lite:  board_kubelet_start, board_kubelet_stop, board_kubelet_config [FRAGMENT]
# manifests:     board_manifest_add FILE [NAME], board_manifest_rm NAME,
#                board_manifests_load DIR, board_manifests_clear
# (busybox 1.35 static: wget -T segfaults, hence timeout(1) around wget.)
# pods:          board_pods, board_pod NAME, board_pod_get NAME JQ,
#                board_wait_pod NAME JQ-CONDITION SECONDS, board_wait_gone NAME SECONDS,
#                board_pod_uid NAME, board_pod_cgroup NAME, board_container_cgroup NAME CONTAINER
# isolation:     board_reset [FRAGMENT]   (no pods, no containers, fresh kubelet-lite)
# checks:        board_check DESC CMD..., board_check_eq DESC EXPECTED ACTUAL,
#                board_check_match DESC GLOB ACTUAL, board_check_le DESC MAX ACTUAL,
#                board_summary
#
# Static pods are looked up by manifest name: NAME or NAME-<node name>.

BOARD_MANIFESTS=/etc/kubernetes/manifests
BOARD_STAGING=/etc/kubernetes/.staging
BOARD_KL_CONFIG=/etc/kubernetes/kubelet-lite.yaml
BOARD_KL_BASE=/etc/board/kubelet-lite.base.yaml
BOARD_KL_ROOT=/var/lib/kubelet-lite
BOARD_KL_LOG=/var/log/kubelet-lite.log
BOARD_CTR="ctr -n k8s.io"
: "${BOARD_PASS:=0}" "${BOARD_FAIL:=0}"

board_uptime() { cut -d' ' -f1 /proc/uptime; }
board_log() { echo "board: [$(board_uptime)s] $*"; }

# --- kubelet-lite ---------------------------------------------------------

# Write the KubeletConfiguration: the base file, where every top-level key of
# FRAGMENT (a KubeletConfiguration or a bare list of keys) replaces the base's.
board_kubelet_config() {
        local frag=${1:-}
        if [ -z "$frag" ] || [ ! -s "$frag" ]; then
                cp "$BOARD_KL_BASE" "$BOARD_KL_CONFIG.tmp"
        else
                awk '
                function key(line) { sub(/:.*/, "", line); return line }
                FNR == NR {
                        if ($0 ~ /^[A-Za-z_][A-Za-z0-9_]*:/ && key($0) != "apiVersion" && key($0) != "kind")
                                user[key($0)] = 1
                        next
                }
                /^[A-Za-z_][A-Za-z0-9_]*:/ { skip = (key($0) in user) }
                !skip { print }
                ' "$frag" "$BOARD_KL_BASE" >"$BOARD_KL_CONFIG.tmp"
                echo "# from $frag" >>"$BOARD_KL_CONFIG.tmp"
                grep -vE '^(apiVersion|kind):|^---' "$frag" >>"$BOARD_KL_CONFIG.tmp"
        fi
        mv "$BOARD_KL_CONFIG.tmp" "$BOARD_KL_CONFIG"
}

board_healthz() {
        [ "$(timeout 3 wget -qO- http://127.0.0.1:10248/healthz 2>/dev/null)" = ok ]
}

# Start kubelet-lite and wait (up to $1 s, default 60) until /healthz says ok.
board_kubelet_start() {
        local limit=${1:-60} i=0
        [ -x /usr/bin/kubelet-lite ] || { board_log "no kubelet-lite binary in this initramfs"; return 1; }
        mkdir -p "$BOARD_MANIFESTS" "$BOARD_STAGING" "$BOARD_KL_ROOT" /var/log/pods
        [ -f "$BOARD_KL_CONFIG" ] || board_kubelet_config
        echo "=== kubelet-lite start at $(board_uptime)s" >>"$BOARD_KL_LOG"
        kubelet-lite --config "$BOARD_KL_CONFIG" --pod-manifest-path "$BOARD_MANIFESTS" \
                --container-runtime-endpoint unix:///run/containerd/containerd.sock \
                --root-dir "$BOARD_KL_ROOT" --healthz-port 10248 --read-only-port 10255 \
                --v "${BOARD_KL_VERBOSITY:-2}" >>"$BOARD_KL_LOG" 2>&1 &
        echo $! >/run/kubelet-lite.pid
        while ! board_healthz; do
                if ! kill -0 "$(cat /run/kubelet-lite.pid)" 2>/dev/null; then
                        board_log "kubelet-lite exited; last log lines:"
                        tail -n 20 "$BOARD_KL_LOG"
                        return 1
                fi
                i=$((i + 1))
                if [ $i -gt $((limit * 5)) ]; then
                        board_log "kubelet-lite: no healthz after ${limit}s"
                        return 1
                fi
                sleep 0.2
        done
        board_log "kubelet-lite healthy (pid $(cat /run/kubelet-lite.pid))"
}

board_kubelet_stop() {
        [ -f /run/kubelet-lite.pid ] || return 0
        local pid i=0
        pid=$(cat /run/kubelet-lite.pid)
        kill "$pid" 2>/dev/null
        while kill -0 "$pid" 2>/dev/null; do
                i=$((i + 1))
                if [ $i -gt 100 ]; then
                        board_log "kubelet-lite ignores SIGTERM for 10 s, killing it"
                        kill -9 "$pid" 2>/dev/null
                fi
                sleep 0.1
        done
        rm -f /run/kubelet-lite.pid
}

# --- manifests --------------------------------------------------------------
# inotify never sees what the host writes on 9p, and a half-written file must
# never be seen: write under a staging dir on the same tmpfs, then rename.

board_manifest_add() {
        local name=${2:-$(basename "$1")}
        mkdir -p "$BOARD_STAGING" "$BOARD_MANIFESTS"
        cp "$1" "$BOARD_STAGING/$name" && mv -f "$BOARD_STAGING/$name" "$BOARD_MANIFESTS/$name"
}

board_manifest_rm() { rm -f "$BOARD_MANIFESTS/$1"; }

board_manifests_load() {
        local f
        for f in "$1"/*; do
                [ -f "$f" ] || continue
                case $f in *.yaml | *.yml | *.json) board_manifest_add "$f" ;; esac
        done
}

board_manifests_clear() { rm -f "$BOARD_MANIFESTS"/* "$BOARD_MANIFESTS"/.[!.]* 2>/dev/null; :; }

# --- pods ------------------------------------------------------------------

# Tried three times: kubelet-lite may not answer while it waits on a slow
# CRI call (under TCG a RunPodSandbox takes seconds).
board_pods() {
        local out i
        for i in 1 2 3; do
                out=$(timeout 10 wget -qO- http://127.0.0.1:10255/pods 2>/dev/null) && [ -n "$out" ] &&
                        { echo "$out"; return 0; }
        done
        return 1
}

# One jq filter that picks the pod: NAME or NAME-<node name>.
BOARD_JQ_POD='[.items[]? | select(.metadata.name == $n or .metadata.name == $m)][0]'

board_pod() {
        board_pods | jq -c --arg n "$1" --arg m "$1-$(hostname)" "$BOARD_JQ_POD // empty" 2>/dev/null
}

# board_pod_get NAME JQ: e.g. board_pod_get web '.status.phase'; raw output.
board_pod_get() {
        board_pods | jq -r --arg n "$1" --arg m "$1-$(hostname)" "$BOARD_JQ_POD | select(. != null) | $2" 2>/dev/null
}

# board_wait_pod NAME JQ-CONDITION SECONDS, e.g. '.status.phase == "Running"'.
# Polls once a second with one wget and one jq: under TCG every process
# start costs, and the poll must not starve the pods it waits for.
board_wait_pod() {
        local end
        end=$(($(date +%s) + $3))
        while :; do
                [ "$(board_pod_get "$1" "$2")" = true ] && return 0
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 1
        done
}

board_wait_gone() {
        local end
        end=$(($(date +%s) + $2))
        while [ -n "$(board_pod "$1")" ]; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 1
        done
}

board_pod_uid() { board_pod_get "$1" '.metadata.uid // empty'; }

# The pod's cgroup directory: pod<uid> anywhere under the kubepods tree (the
# QoS class decides the parent). The uid is tried as is and with '_' for '-'.
board_pod_cgroup() {
        local uid uid2
        uid=$(board_pod_uid "$1")
        [ -n "$uid" ] || return 1
        uid2=$(echo "$uid" | tr - _)
        find /sys/fs/cgroup -maxdepth 4 -type d \( -name "pod$uid" -o -name "pod$uid2" \) 2>/dev/null | head -n1
}

board_container_cgroup() {
        local pcg cid
        pcg=$(board_pod_cgroup "$1") || return 1
        [ -n "$pcg" ] || return 1
        cid=$(board_pod_get "$1" ".status.containerStatuses[]? | select(.name == \"$2\") | .containerID // empty" |
                sed 's|^[a-z]*://||')
        [ -n "$cid" ] || return 1
        find "$pcg" -maxdepth 2 -type d -name "*$cid*" | head -n1
}

# --- isolation between scenarios --------------------------------------------

# Remove every manifest and wait for the pods to go, then stop kubelet-lite,
# remove whatever containers and pod cgroups are left, wipe its root dir and
# start it again with the base config plus FRAGMENT.
board_reset() {
        local end t d
        board_manifests_clear
        if [ -f /run/kubelet-lite.pid ]; then
                end=$(($(date +%s) + 30))
                while [ "$(board_pods | jq '.items | length' 2>/dev/null)" != 0 ]; do
                        [ "$(date +%s)" -ge "$end" ] && { board_log "reset: pods still listed after 30 s"; break; }
                        sleep 0.5
                done
        fi
        board_kubelet_stop
        for t in $($BOARD_CTR tasks ls -q 2>/dev/null); do
                $BOARD_CTR tasks kill -s KILL "$t" >/dev/null 2>&1
        done
        for t in $($BOARD_CTR tasks ls -q 2>/dev/null); do
                $BOARD_CTR tasks delete -f "$t" >/dev/null 2>&1
        done
        $BOARD_CTR containers ls -q 2>/dev/null | xargs -r $BOARD_CTR containers rm >/dev/null 2>&1
        # Deepest first; a cgroup with processes left refuses and stays.
        for d in $(find /sys/fs/cgroup -mindepth 1 -type d -path '*kubepods*' 2>/dev/null | sort -r); do
                rmdir "$d" 2>/dev/null
        done
        rm -rf "$BOARD_KL_ROOT" /var/log/pods
        board_kubelet_config "${1:-}"
        board_kubelet_start
}

# --- checks -----------------------------------------------------------------

# Each result line ends with the guest uptime, to see where the time goes.
board_pass() { BOARD_PASS=$((BOARD_PASS + 1)); echo "ok   $* [$(board_uptime)s]"; }
board_fail() { BOARD_FAIL=$((BOARD_FAIL + 1)); echo "FAIL $* [$(board_uptime)s]"; }

board_check() {
        local desc=$1
        shift
        if "$@" >/dev/null 2>&1; then board_pass "$desc"; else board_fail "$desc"; fi
}

board_check_eq() {
        if [ "$3" = "$2" ]; then
                board_pass "$1 ('$3')"
        else
                board_fail "$1: expected '$2', got '$3'"
        fi
}

# board_check_match DESC GLOB ACTUAL: ACTUAL matches the shell pattern GLOB.
board_check_match() {
        # shellcheck disable=SC2254
        case $3 in
        $2) board_pass "$1 ('$3')" ;;
        *) board_fail "$1: expected a match of '$2', got '$3'" ;;
        esac
}

# Integers: ACTUAL <= MAX.
board_check_le() {
        if [ -n "$3" ] && [ "$3" -le "$2" ] 2>/dev/null; then
                board_pass "$1 ($3 <= $2)"
        else
                board_fail "$1: expected at most $2, got '$3'"
        fi
}

board_summary() {
        echo "$BOARD_PASS passed, $BOARD_FAIL failed"
        [ "$BOARD_FAIL" -eq 0 ]
}
