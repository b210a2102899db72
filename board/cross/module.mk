# board/cross: cross builds for the boards (see board/cross/README.md).
#
#   make cross ARCH=aarch64   kubelet-lite and its tests in $(BUILD)/aarch64/
#   make cross ARCH=armhf     the same in $(BUILD)/armhf/
#   make sysroot ARCH=...     only the sysroot, $(BUILD)/sysroot-<arch>/
#
# The sysroot is Debian's arm64/armhf packages, fetched with apt-get download
# and unpacked with dpkg -x (board/cross/mksysroot): installing foreign -dev
# packages with apt would upgrade host packages. The build is the ordinary
# top-level build run again with CC, AR, PKG_CONFIG_* and BUILD pointing at
# the target; protoc-c runs on the host.

ARCH ?=
CROSS_ARCHES := aarch64 armhf
# Extra make flags for the inner build, e.g. CROSS_MAKEFLAGS=-k.
CROSS_MAKEFLAGS ?=
# What the inner build makes: the daemon and every test binary.
CROSS_GOALS ?= all tests
# Extra preprocessor flags for the target, e.g. -D_FILE_OFFSET_BITS=64.
CROSS_CPPFLAGS ?=
# The packages the build links against (their dependencies follow).
CROSS_PKGS_FILE := board/cross/packages

cross_check = $(if $(filter $(1),$(CROSS_ARCHES)),,$(error ARCH='$(1)': use ARCH=aarch64 or ARCH=armhf))
cross_check_arch = $(call cross_check,$(ARCH))
cross_triple = $(if $(filter aarch64,$(1)),aarch64-linux-gnu,arm-linux-gnueabihf)
cross_debarch = $(if $(filter aarch64,$(1)),arm64,armhf)
CROSS_TRIPLE = $(call cross_triple,$(ARCH))
CROSS_SYSROOT = $(BUILD)/sysroot-$(ARCH)
CROSS_BUILD = $(BUILD)/$(ARCH)
cross_abs = $(abspath $(1))

$(BUILD)/sysroot-%/.stamp: board/cross/mksysroot board/cross/debs $(CROSS_PKGS_FILE)
	$(call cross_check,$*)
	@$(if $(Q),echo "  SYSROOT $(@D)")
	$(Q)board/cross/mksysroot $(call cross_debarch,$*) $(@D) $(BUILD)/debs \
		$$(grep -v '^#' $(CROSS_PKGS_FILE))
	$(Q)touch $@

ifneq ($(ARCH),)
sysroot cross: $(CROSS_SYSROOT)/.stamp
endif

sysroot:
	$(cross_check_arch)

cross:
	$(cross_check_arch)
	@$(if $(Q),echo "  CROSS   $(ARCH) -> $(CROSS_BUILD)")
	$(Q)PKG_CONFIG_SYSROOT_DIR=$(call cross_abs,$(CROSS_SYSROOT)) \
	PKG_CONFIG_LIBDIR=$(call cross_abs,$(CROSS_SYSROOT))/usr/lib/$(CROSS_TRIPLE)/pkgconfig:$(call cross_abs,$(CROSS_SYSROOT))/usr/share/pkgconfig \
	PKG_CONFIG_PATH= \
	$(MAKE) --no-print-directory $(CROSS_MAKEFLAGS) BUILD=$(CROSS_BUILD) \
		CC=$(CROSS_TRIPLE)-gcc AR=$(CROSS_TRIPLE)-ar PKG_CONFIG=pkg-config \
		CPPFLAGS="--sysroot=$(call cross_abs,$(CROSS_SYSROOT)) $(CROSS_CPPFLAGS)" \
		LDFLAGS=--sysroot=$(call cross_abs,$(CROSS_SYSROOT)) \
		$(CROSS_GOALS)

.PHONY: cross sysroot
