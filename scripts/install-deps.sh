#!/bin/sh
# Install the Debian packages that building, the demo and the tests need.
# Idempotent and quiet when everything is already installed.
set -eu

PKGS="
build-essential pkg-config
libyaml-dev libprotobuf-c-dev protobuf-c-compiler libgrpc-dev zlib1g-dev
containerd runc containernetworking-plugins iproute2
busybox-static musl-tools
jq curl rsync cpio xz-utils zstd util-linux procps psmisc kmod kubernetes-client
qemu-system-x86 qemu-system-arm qemu-user-static
gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
clang llvm
shellcheck python3-kconfiglib cppcheck clang-format libclang-rt-14-dev
"

missing=""
for p in $PKGS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
                missing="$missing $p"
        fi
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
