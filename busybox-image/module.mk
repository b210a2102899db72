# busybox-image: the OCI images the tests and the demo run (see busybox-image/README.md).
#
#   make images                   native images in $(BUILD)/images/
#   make images IMAGE_ARCH=arm64  arm64 images in $(BUILD)/images-arm64/ (also: arm, amd64)
#
# Each archive depends on its real inputs only, so a second `make images` does
# nothing, and the same inputs always give byte-identical archives.

IMAGE_ARCH ?=
IMG_REF_PREFIX := localhost/kubelet-lite
IMG_HOST_DEBARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
# Debian architecture name -> OCI architecture name.
img_oci_arch = $(patsubst armhf,arm,$(patsubst arm/v7,arm,$(1)))
IMG_HOST_ARCH := $(call img_oci_arch,$(IMG_HOST_DEBARCH))
IMG_ARCH := $(if $(IMAGE_ARCH),$(call img_oci_arch,$(IMAGE_ARCH)),$(IMG_HOST_ARCH))

ifeq ($(IMG_ARCH),$(IMG_HOST_ARCH))
IMG_DIR := $(BUILD)/images
IMG_CC ?= musl-gcc
IMG_BUSYBOX ?= /bin/busybox
IMG_RUNNER :=
else
IMG_DIR := $(BUILD)/images-$(IMG_ARCH)
IMG_DEBARCH := $(patsubst arm,armhf,$(IMG_ARCH))
img_cross_cc = $(or $(word 2,$(subst =, ,$(filter $(IMG_ARCH)=%,$(1)))),$(error IMAGE_ARCH=$(IMAGE_ARCH): unknown architecture, use amd64, arm64 or arm))
IMG_CC ?= $(call img_cross_cc,amd64=x86_64-linux-gnu-gcc arm64=aarch64-linux-gnu-gcc arm=arm-linux-gnueabihf-gcc)
IMG_RUNNER := $(call img_cross_cc,amd64=qemu-x86_64-static arm64=qemu-aarch64-static arm=qemu-arm-static)
# The cross compiler only recommends its C library; without it, it falls back
# to the host's /usr/include and fails on bits/wordsize.h. Say which package
# is missing instead (scripts/install-deps.sh check installs it).
IMG_LIBC_PKG := libc6-dev-$(IMG_DEBARCH)-cross
IMG_LIBC_CHECK = $(Q)case "$$($(IMG_CC) -print-file-name=libc.a)" in /*) ;; \
	*) echo "$(IMG_CC) has no C library: install $(IMG_LIBC_PKG) (scripts/install-deps.sh check)" >&2; exit 1 ;; esac
# Debian's busybox-static of that architecture, fetched and unpacked, never installed.
IMG_BBROOT := $(BUILD)/debs/$(IMG_DEBARCH)/busybox-static
IMG_BUSYBOX ?= $(IMG_BBROOT)/bin/busybox
$(IMG_BBROOT)/bin/busybox: board/cross/debs
	@$(if $(Q),echo "  FETCH   busybox-static:$(IMG_DEBARCH)")
	$(Q)rm -rf $(IMG_BBROOT)
	$(Q)board/cross/debs -a $(IMG_DEBARCH) -d $(BUILD)/debs unpack $(IMG_BBROOT) busybox-static
	$(Q)touch $@
endif

# The image programs are static on purpose: the images hold no libc.
IMG_CFLAGS ?= -Os
IMG_OBJ := $(BUILD)/image-build/$(IMG_ARCH)
IMG_MKIMAGE := busybox-image/mkimage
IMG_DEPS := $(IMG_MKIMAGE) busybox-image/module.mk

# Several people build in one tree at once: every step writes to a private
# temp name and renames, so concurrent `make images` runs never see halves.
$(IMG_OBJ)/pause: busybox-image/pause.c busybox-image/module.mk
	@mkdir -p $(@D)
	$(IMG_LIBC_CHECK)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(IMG_CC) -static -s $(IMG_CFLAGS) -std=gnu11 -Wall -Wextra -o $@.$$$$ $< && mv -f $@.$$$$ $@

$(IMG_OBJ)/kltest: busybox-image/testbox.c busybox-image/module.mk
	@mkdir -p $(@D)
	$(IMG_LIBC_CHECK)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(IMG_CC) -static -s $(IMG_CFLAGS) -std=gnu11 -Wall -Wextra -o $@.$$$$ $< && mv -f $@.$$$$ $@

# img_stage(name, commands filling $$r, mkimage args): stage a rootfs in a
# temp dir, build the archive from it, remove the temp dir.
define img_stage
	@$(if $(Q),echo "  IMAGE   $@")
	$(Q)mkdir -p $(IMG_OBJ) && r=$$(mktemp -d $(IMG_OBJ)/rootfs-$(1).XXXXXX) && \
	{ $(2) && $(IMG_MKIMAGE) -r $$r -n $(IMG_REF_PREFIX)/$(1):1.0 -a $(IMG_ARCH) $(3) -o $@; }; \
	rc=$$?; rm -rf $$r; exit $$rc
endef

$(IMG_DIR)/pause.tar: $(IMG_OBJ)/pause $(IMG_DEPS)
	$(call img_stage,pause,cp $< $$r/pause,-e /pause)

$(IMG_DIR)/busybox.tar: $(IMG_BUSYBOX) busybox-image/busybox-rootfs $(IMG_DEPS)
	$(call img_stage,busybox,busybox-image/busybox-rootfs $$r $(IMG_BUSYBOX) $(IMG_RUNNER),-c sh)

$(IMG_DIR)/testbox.tar: $(IMG_OBJ)/kltest $(IMG_BUSYBOX) busybox-image/busybox-rootfs $(IMG_DEPS)
	$(call img_stage,testbox,busybox-image/busybox-rootfs $$r $(IMG_BUSYBOX) $(IMG_RUNNER) && \
		cp $< $$r/kltest,-e /kltest -c sleep)

images: $(IMG_DIR)/pause.tar $(IMG_DIR)/busybox.tar $(IMG_DIR)/testbox.tar
