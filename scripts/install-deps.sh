#!/bin/sh
# Install the Debian packages that one of the README's commands needs.
#
#   scripts/install-deps.sh demo     what `make demo` needs: build the daemon
#                                    and the native images, run containerd
#   scripts/install-deps.sh check    what `make check` needs: the demo's set,
#                                    the board VMs, the cross builds, the
#                                    analysers and kubectl (the default)
#   scripts/install-deps.sh bench    what `make bench` needs: the check set
#                                    and podman, to compare with kube play
#   scripts/install-deps.sh --list SET   print the set, one package a line
#
# Idempotent and quiet when everything is already installed. Recommends are
# never installed, so every package a build or test uses is named here, even
# when another package merely recommends it (gcc-aarch64-linux-gnu only
# recommends libc6-dev-arm64-cross, the C library the arm64 images link).
# Sizes of each set on a fresh Debian 12: docs/PACKAGING.md.
set -eu

# The daemon and the native images (busybox-image/module.mk: musl-gcc and
# Debian's static busybox), containerd and runc, and what scripts/demo runs
# (curl and jq read /pods, column from bsdextrautils prints the table,
# pgrep from procps finds the shims to stop).
DEMO="
gcc make libc6-dev pkg-config
libyaml-dev libprotobuf-c-dev protobuf-c-compiler libgrpc-dev zlib1g-dev libssl-dev
containerd runc
busybox-static musl-tools
curl jq bsdextrautils procps
"

# The tests: CNI pods, the board VMs (qemu, cpio, the kernel's modules), the
# arm64/armhf images (cross gcc with its C library, qemu-user to list
# busybox's applets), the sanitizers, analysers and formatter (git lists the
# files to check), kubectl.
CHECK="$DEMO
containernetworking-plugins iproute2
rsync cpio xz-utils zstd util-linux psmisc kmod
qemu-system-x86 qemu-system-arm qemu-user-static
gcc-aarch64-linux-gnu libc6-dev-arm64-cross
gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
clang llvm libclang-rt-14-dev
shellcheck python3-kconfiglib cppcheck clang-format git
kubernetes-client
"

# make bench also times podman kube play (tests/bench/podman.sh). podman pulls
# in conmon and containers-common, whose network stack the check set's
# containernetworking-plugins already provides (the bench's pods are
# hostNetwork and need none); catatonit is only recommended, but kube play
# builds every pod's infra image from it and fails without it.
BENCH="$CHECK
podman catatonit
"

list=0
if [ "${1:-}" = --list ]; then
        list=1
        shift
fi
case ${1:-check} in
demo) PKGS=$DEMO ;;
check) PKGS=$CHECK ;;
bench) PKGS=$BENCH ;;
*)
        sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
        exit 2
        ;;
esac
if [ $list = 1 ]; then
        # shellcheck disable=SC2086
        printf '%s\n' $PKGS
        exit 0
fi

installed() {
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The kubectl tests want Debian's kubectl (1.20): when another package owns
# /usr/bin/kubectl, Debian's is unpacked beside it, never installed, and the
# tests use it from there (tests/integration/kubectl/lib-kubectl.sh).
DEBIAN_KUBECTL_DIR=/var/cache/kubelet-lite/kubernetes-client
debian_kubectl() {
        [ -x "$DEBIAN_KUBECTL_DIR/usr/bin/kubectl" ] && return 0
        [ "$(id -u)" = 0 ] || return 0
        tmp=$(mktemp -d)
        if (cd "$tmp" && { apt-get download kubernetes-client >/dev/null 2>&1 ||
                { apt-get update -q >/dev/null && apt-get download kubernetes-client >/dev/null; }; }); then
                mkdir -p "$DEBIAN_KUBECTL_DIR"
                dpkg -x "$tmp"/kubernetes-client_*.deb "$DEBIAN_KUBECTL_DIR"
                echo "install-deps: Debian's kubectl unpacked in $DEBIAN_KUBECTL_DIR for the tests" >&2
        else
                echo "install-deps: could not download kubernetes-client; the kubectl tests use $(command -v kubectl)" >&2
        fi
        rm -rf "$tmp"
}

missing=""
for p in $PKGS; do
        installed "$p" && continue
        # kubernetes-client ships /usr/bin/kubectl; a kubectl installed by some
        # other package (Google's, say) would make dpkg refuse the whole
        # install. Keep that one rather than overwrite it.
        if [ "$p" = kubernetes-client ]; then
                owner=$(dpkg-query -S /usr/bin/kubectl 2>/dev/null | cut -d: -f1 || true)
                if [ -n "$owner" ]; then
                        echo "install-deps: /usr/bin/kubectl comes from package '$owner', not kubernetes-client: keeping it" >&2
                        debian_kubectl
                        continue
                fi
        fi
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing Debian packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
