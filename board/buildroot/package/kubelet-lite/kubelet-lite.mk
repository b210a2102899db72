################################################################################
#
# kubelet-lite
#
################################################################################

KUBELET_LITE_VERSION = 0.1.0
ifeq ($(BR2_PACKAGE_KUBELET_LITE_SOURCE_TARBALL),y)
KUBELET_LITE_SITE = $(call qstrip,$(BR2_PACKAGE_KUBELET_LITE_TARBALL_SITE))
KUBELET_LITE_SOURCE = kubelet-lite-$(KUBELET_LITE_VERSION).tar.gz
else
# The repository this BR2_EXTERNAL tree lives in: board/buildroot/../..
KUBELET_LITE_SITE = $(realpath $(BR2_EXTERNAL_KUBELET_LITE_PATH)/../..)
KUBELET_LITE_SITE_METHOD = local
# A developer's build/ holds host objects and images: never copy it in.
KUBELET_LITE_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /build
endif
KUBELET_LITE_LICENSE = Apache-2.0
# Every source file carries SPDX-License-Identifier: Apache-2.0; the
# repository has no LICENSE file yet. Once it has one:
# KUBELET_LITE_LICENSE_FILES = LICENSE (and its sha256 in kubelet-lite.hash)
KUBELET_LITE_DEPENDENCIES = libyaml protobuf-c host-protobuf-c grpc zlib host-pkgconf

# The Makefile honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG (all in
# TARGET_CONFIGURE_OPTS) and adds its own flags with `override ... +=`.
# protoc-c runs on the build machine.
KUBELET_LITE_MAKE_OPTS = \
	$(TARGET_CONFIGURE_OPTS) \
	PROTOC_C=$(HOST_DIR)/bin/protoc-c \
	PREFIX=/usr

define KUBELET_LITE_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(KUBELET_LITE_MAKE_OPTS) all
endef

# The init files come from the hooks below, one init system at a time:
# empty SYSTEMDUNITDIR and INITDIR keep `make install` from installing its.
define KUBELET_LITE_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(KUBELET_LITE_MAKE_OPTS) \
		DESTDIR=$(TARGET_DIR) SYSTEMDUNITDIR= INITDIR= install
	$(INSTALL) -D -m 0644 $(@D)/board/init/containerd.toml \
		$(TARGET_DIR)/etc/containerd/config.toml
endef

# Buildroot's containerd has no SysV script: S98containerd, then us.
define KUBELET_LITE_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/board/init/containerd.init \
		$(TARGET_DIR)/etc/init.d/S98containerd
	$(INSTALL) -D -m 0755 $(@D)/board/init/kubelet-lite.init \
		$(TARGET_DIR)/etc/init.d/S99kubelet-lite
endef

define KUBELET_LITE_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/board/init/kubelet-lite.service \
		$(TARGET_DIR)/usr/lib/systemd/system/kubelet-lite.service
endef

# The sandbox image the containerd configuration names, built here for the
# target (static: the image holds no libc) and imported by kubelet-lite from
# imagePreloadDir at its first start.
ifeq ($(BR2_PACKAGE_KUBELET_LITE_PAUSE_IMAGE),y)
KUBELET_LITE_OCI_ARCH = $(strip \
	$(if $(BR2_aarch64),arm64) \
	$(if $(BR2_x86_64),amd64) \
	$(if $(BR2_i386),386) \
	$(if $(BR2_RISCV_64),riscv64) \
	$(if $(BR2_arm),$(if $(BR2_ARM_CPU_ARMV7A)$(BR2_ARM_CPU_ARMV8A),arm,arm/v$(if $(BR2_ARM_CPU_ARMV6),6,5))))

define KUBELET_LITE_BUILD_PAUSE_IMAGE
	rm -rf $(@D)/br-pause
	mkdir -p $(@D)/br-pause/rootfs
	$(TARGET_CC) $(TARGET_CFLAGS) $(TARGET_LDFLAGS) -static -std=gnu11 \
		-o $(@D)/br-pause/rootfs/pause $(@D)/busybox-image/pause.c
	$(TARGET_STRIP) $(@D)/br-pause/rootfs/pause
	$(@D)/busybox-image/mkimage -r $(@D)/br-pause/rootfs \
		-n localhost/kubelet-lite/pause:1.0 -a $(KUBELET_LITE_OCI_ARCH) \
		-e /pause -o $(@D)/br-pause/pause.tar
endef
KUBELET_LITE_POST_BUILD_HOOKS += KUBELET_LITE_BUILD_PAUSE_IMAGE

define KUBELET_LITE_INSTALL_PAUSE_IMAGE
	$(INSTALL) -D -m 0644 $(@D)/br-pause/pause.tar \
		$(TARGET_DIR)/var/lib/kubelet-lite/images/pause.tar
endef
KUBELET_LITE_POST_INSTALL_TARGET_HOOKS += KUBELET_LITE_INSTALL_PAUSE_IMAGE
endif

# What containerd, runc and kubelet-lite need from a kernel that buildroot
# builds (cgroup v2 controllers, namespaces, overlayfs, veth/bridge for CNI).
define KUBELET_LITE_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_CGROUPS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_MEMCG)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CGROUP_SCHED)
	$(call KCONFIG_ENABLE_OPT,CONFIG_FAIR_GROUP_SCHED)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CFS_BANDWIDTH)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CPUSETS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CGROUP_PIDS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CGROUP_FREEZER)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CGROUP_BPF)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BPF_SYSCALL)
	$(call KCONFIG_ENABLE_OPT,CONFIG_NAMESPACES)
	$(call KCONFIG_ENABLE_OPT,CONFIG_UTS_NS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_IPC_NS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_PID_NS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_NET_NS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_OVERLAY_FS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_TMPFS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_POSIX_MQUEUE)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SECCOMP)
	$(call KCONFIG_ENABLE_OPT,CONFIG_KEYS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_VETH)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BRIDGE)
endef

$(eval $(generic-package))
