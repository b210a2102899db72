# shellcheck shell=sh
# Start and stop a private containerd for tests and the demo.
#
#   . tests/lib/containerd.sh
#   kl_containerd_start DIR [--cni]   # sets KL_CRI_ENDPOINT, KL_CONTAINERD_DIR
#   (KL_CONTAINERD_ROOT=PATH puts containerd's root, images and snapshots,
#   there instead, e.g. on a small filesystem; the caller removes it)
#   ...
#   kl_containerd_stop
#
# Everything lives under DIR: root, state, sockets, config, logs. The host's
# /etc/containerd and /run/containerd/containerd.sock are never touched.
# Images found in $BUILD/images/*.tar are imported into the k8s.io namespace.

# The repository: from the caller, or from where this file lives.
KL_TOP=${KL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." 2>/dev/null && pwd)}
KL_BUILD=${BUILD:-build}
case "$KL_BUILD" in /*) ;; *) KL_BUILD="$KL_TOP/$KL_BUILD" ;; esac
KL_PAUSE_REF=${KL_PAUSE_REF:-localhost/kubelet-lite/pause:1.0}

kl_containerd_write_config() {
        dir=$1
        cni=$2
        cat >"$dir/config.toml" <<TOML
version = 2
root = "${KL_CONTAINERD_ROOT:-$dir/root}"
state = "$dir/state"
oom_score = 0
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$KL_PAUSE_REF"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
TOML
        mkdir -p "$dir/cni/net.d"
        if [ "$cni" = 1 ]; then
                cat >"$dir/cni/net.d/10-kl-bridge.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "kl-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "klcni0",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.88.77.0/24"}]],
        "dataDir": "$dir/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
JSON
        fi
}

kl_containerd_start() {
        dir=$1
        cni=0
        [ "${2:-}" = "--cni" ] && cni=1
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
        KL_CONTAINERD_DIR=$dir
        kl_containerd_write_config "$dir" "$cni"
        ls -d /run/netns/cni-* >"$dir/netns.before" 2>/dev/null || true
        containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
        KL_CONTAINERD_PID=$!
        echo "$KL_CONTAINERD_PID" >"$dir/containerd.pid"
        i=0
        while [ ! -S "$dir/containerd.sock" ]; do
                i=$((i + 1))
                if [ $i -gt 200 ] || ! kill -0 "$KL_CONTAINERD_PID" 2>/dev/null; then
                        echo "containerd did not start; log:" >&2
                        tail -20 "$dir/containerd.log" >&2
                        return 1
                fi
                sleep 0.05
        done
        KL_CRI_ENDPOINT="unix://$dir/containerd.sock"
        export KL_CRI_ENDPOINT KL_CONTAINERD_DIR KL_CONTAINERD_PID
        for img in "$KL_BUILD"/images/*.tar; do
                [ -f "$img" ] || continue
                ctr --address "$dir/containerd.sock" -n k8s.io images import --no-unpack=false \
                        "$img" >/dev/null 2>>"$dir/import.log" || {
                        echo "import of $img failed:" >&2
                        cat "$dir/import.log" >&2
                        return 1
                }
        done
        return 0
}

# Restart containerd in place (same dir, same config); used by crash tests.
kl_containerd_restart() {
        [ -f "$KL_CONTAINERD_DIR/containerd.pid" ] && KL_CONTAINERD_PID=$(cat "$KL_CONTAINERD_DIR/containerd.pid")
        kill "$KL_CONTAINERD_PID" 2>/dev/null
        wait "$KL_CONTAINERD_PID" 2>/dev/null
        # It holds its database lock and removes the socket until it has exited.
        while kill -0 "$KL_CONTAINERD_PID" 2>/dev/null; do sleep 0.05; done
        rm -f "$KL_CONTAINERD_DIR/containerd.sock"
        containerd --config "$KL_CONTAINERD_DIR/config.toml" >>"$KL_CONTAINERD_DIR/containerd.log" 2>&1 &
        KL_CONTAINERD_PID=$!
        echo "$KL_CONTAINERD_PID" >"$KL_CONTAINERD_DIR/containerd.pid"
        while [ ! -S "$KL_CONTAINERD_DIR/containerd.sock" ]; do sleep 0.05; done
}

# Remove every pod sandbox and container, stop containerd, kill leftover
# shims, unmount and delete everything under the dir, and remove the cgroups
# and network namespaces that the CRI plugin created for our sandboxes.
kl_containerd_stop() {
        dir=${KL_CONTAINERD_DIR:-}
        [ -n "$dir" ] || return 0
        sock="$dir/containerd.sock"
        if [ -S "$sock" ]; then
                for t in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
                        ctr --address "$sock" -n k8s.io tasks kill -s KILL "$t" >/dev/null 2>&1
                done
                sleep 0.2
                for t in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
                        ctr --address "$sock" -n k8s.io tasks delete -f "$t" >/dev/null 2>&1
                done
                ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null |
                        xargs -r ctr --address "$sock" -n k8s.io containers rm >/dev/null 2>&1
        fi
        # The pid file is authoritative: a child may have restarted containerd.
        [ -f "$dir/containerd.pid" ] && KL_CONTAINERD_PID=$(cat "$dir/containerd.pid")
        if [ -n "${KL_CONTAINERD_PID:-}" ]; then
                kill "$KL_CONTAINERD_PID" 2>/dev/null
                wait "$KL_CONTAINERD_PID" 2>/dev/null
                while kill -0 "$KL_CONTAINERD_PID" 2>/dev/null; do sleep 0.05; done
        fi
        # Shims outlive containerd by design; ours carry our socket in argv.
        for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null); do
                kill -9 "$p" 2>/dev/null
        done
        # Sandbox network namespaces the CRI plugin created under /run/netns.
        if [ -f "$dir/netns.before" ]; then
                for n in /run/netns/cni-*; do
                        [ -e "$n" ] || continue
                        grep -qx "$n" "$dir/netns.before" && continue
                        umount "$n" 2>/dev/null
                        rm -f "$n"
                done
        fi
        # The test bridge is shared by concurrent CNI tests; the last one out removes it.
        if [ -f "$dir/cni/net.d/10-kl-bridge.conflist" ] && ip link show klcni0 >/dev/null 2>&1; then
                other=0
                for p in $(pgrep -x containerd 2>/dev/null); do
                        c=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | sed -n 3p)
                        [ -n "$c" ] && [ -f "$(dirname "$c")/cni/net.d/10-kl-bridge.conflist" ] && other=1
                done
                [ $other = 0 ] && ip link del klcni0 2>/dev/null
        fi
        # Unmount anything left under our dir (rootfs overlays, shm), deepest first.
        awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/self/mounts | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        rm -rf "$dir"
        unset KL_CONTAINERD_DIR KL_CONTAINERD_PID KL_CRI_ENDPOINT
}
