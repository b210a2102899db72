SUMMARY = "kubelet-lite: a kubelet for static pods on containerd"
DESCRIPTION = "Runs the Pod manifests found in /etc/kubernetes/manifests on \
containerd through CRI, admitted against the node's cgroup v2 CPU and memory, \
without an API server."
SECTION = "containers"

LICENSE = "Apache-2.0"
# The repository has no LICENSE file yet: this covers the SPDX line that every
# source file starts with. With a LICENSE file it becomes
# "file://LICENSE;md5=<md5sum of that file>".
LIC_FILES_CHKSUM = "file://kubelet-lite/main.c;beginline=1;endline=1;md5=ba3eedb76f290442c6b8f1fe48168aa6"

DEPENDS = "libyaml protobuf-c protobuf-c-native grpc zlib"

# Where the sources come from:
#  - by default the checkout this layer sits in (externalsrc, nothing fetched);
#  - or a git repository: in local.conf
#      KUBELET_LITE_GIT_URI = "git://HOST/PATH/kubelet-lite.git;protocol=https;branch=main"
#      SRCREV:pn-kubelet-lite = "<commit>"
KUBELET_LITE_GIT_URI ??= ""
SRC_URI = "${KUBELET_LITE_GIT_URI}"
inherit ${@'' if d.getVar('KUBELET_LITE_GIT_URI') else 'externalsrc'}
EXTERNALSRC = "${KUBELET_LITE_TOPDIR}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"
# No oe-workdir/oe-logs symlinks in the developer's checkout.
EXTERNALSRC_SYMLINKS = ""
S = "${@'${WORKDIR}/git' if d.getVar('KUBELET_LITE_GIT_URI') else '${KUBELET_LITE_TOPDIR}'}"
# Out of the source tree either way: BUILD= below puts every object in ${B}.
B = "${WORKDIR}/build"

inherit pkgconfig systemd update-rc.d

# The Makefile honours these and adds its own flags with `override ... +=`.
# protoc-c runs on the build machine.
EXTRA_OEMAKE = " \
    -C ${S} \
    BUILD=${B} \
    'CC=${CC}' \
    'CFLAGS=${CFLAGS}' \
    'CPPFLAGS=${CPPFLAGS}' \
    'LDFLAGS=${LDFLAGS}' \
    PKG_CONFIG=pkg-config \
    PROTOC_C=${STAGING_BINDIR_NATIVE}/protoc-c \
"

do_configure[noexec] = "1"

do_compile() {
    oe_runmake all
}

# kubelet-lite's pause image (the sandbox image of the containerd config),
# static because the image holds no libc; imported from imagePreloadDir.
PACKAGECONFIG ??= "pause-image"
PACKAGECONFIG[pause-image] = ",,"

def kubelet_lite_oci_arch(d):
    arch = d.getVar('TARGET_ARCH')
    if arch == 'aarch64':
        return 'arm64'
    if arch == 'x86_64':
        return 'amd64'
    if arch in ('i586', 'i686'):
        return '386'
    if arch == 'riscv64':
        return 'riscv64'
    if arch.startswith('arm'):
        tune = (d.getVar('TUNE_FEATURES') or '').split()
        return 'arm' if ('armv7a' in tune or 'armv7ve' in tune) else 'arm/v6'
    return ''

do_compile:append() {
    if ${@bb.utils.contains('PACKAGECONFIG', 'pause-image', 'true', 'false', d)}; then
        rm -rf ${B}/pause-image
        mkdir -p ${B}/pause-image/rootfs
        ${CC} ${CFLAGS} ${LDFLAGS} -static -std=gnu11 \
            -o ${B}/pause-image/rootfs/pause ${S}/busybox-image/pause.c
        ${S}/busybox-image/mkimage -r ${B}/pause-image/rootfs \
            -n localhost/kubelet-lite/pause:1.0 -a ${@kubelet_lite_oci_arch(d)} \
            -e /pause -o ${B}/pause-image/pause.tar
    fi
}

do_install() {
    oe_runmake install DESTDIR=${D} PREFIX=${prefix} BINDIR=${bindir} \
        MANDIR=${mandir} SYSCONFDIR=${sysconfdir} \
        SYSTEMDUNITDIR=${systemd_system_unitdir} INITDIR=${sysconfdir}/init.d
    # meta-virtualization's containerd has no SysV script and no config.toml.
    install -D -m 0644 ${S}/board/init/containerd.toml ${D}${sysconfdir}/containerd/config.toml
    install -D -m 0755 ${S}/board/init/containerd.init ${D}${sysconfdir}/init.d/containerd
    if ${@bb.utils.contains('PACKAGECONFIG', 'pause-image', 'true', 'false', d)}; then
        install -D -m 0644 ${B}/pause-image/pause.tar \
            ${D}${localstatedir}/lib/kubelet-lite/images/pause.tar
    fi
}

PACKAGES =+ "${PN}-containerd"
FILES:${PN}-containerd = "${sysconfdir}/containerd ${sysconfdir}/init.d/containerd"
CONFFILES:${PN}-containerd = "${sysconfdir}/containerd/config.toml"
# virtual-containerd: RPROVIDED by meta-virtualization's containerd-opencontainers
# (kirkstone) and by its containerd recipe (later releases).
RDEPENDS:${PN}-containerd = "virtual-containerd"

FILES:${PN} += "${localstatedir}/lib/kubelet-lite"
CONFFILES:${PN} = "${sysconfdir}/kubernetes/kubelet-lite.yaml"
RDEPENDS:${PN} = "virtual-containerd"
# The containerd config names kubelet-lite's pause image as the sandbox image;
# leave it out (BAD_RECOMMENDATIONS) only with a config of your own.
RRECOMMENDS:${PN} = "${PN}-containerd"

SYSTEMD_SERVICE:${PN} = "kubelet-lite.service"

# SysV: containerd (S98, K02) before kubelet-lite (S99, K01).
INITSCRIPT_PACKAGES = "${PN} ${PN}-containerd"
INITSCRIPT_NAME = "kubelet-lite"
INITSCRIPT_PARAMS = "defaults 99 01"
INITSCRIPT_NAME:${PN}-containerd = "containerd"
INITSCRIPT_PARAMS:${PN}-containerd = "defaults 98 02"
