# board: the board VM, a real cgroup v2 kernel under qemu (see board/vm/README.md).
#
#   make vm        kernel + initramfs in $(BUILD)/vm/ (fetches Debian's kernel .deb once)
#   make vm-test   the VM test suite, tests/vm/test-* (through tests/run vm)
#
# The initramfs is two cpio archives concatenated: base.cpio (busybox, containerd,
# runc, modules, the guest scripts; rebuilt only when those change) and
# overlay.cpio (kubelet-lite and the images; rebuilt when the daemon changes).

VM_DIR := $(BUILD)/vm
VM_GUEST_FILES := board/vm/init board/vm/rc board/vm/lib.sh board/vm/show-pods.sh board/vm/containerd.toml \
	board/vm/cni.conflist board/vm/kubelet-lite.yaml
VM_IMAGES := $(BUILD)/images/pause.tar $(BUILD)/images/busybox.tar $(BUILD)/images/testbox.tar
# The daemon binary as it is (`make all vm` for a fresh one): `make vm` never
# tries to build it, so the board keeps working while the daemon does not
# build. A copy that changes only when the binary does (empty: no daemon, the
# guest then skips it) keeps the overlay from being rebuilt for nothing.
VM_DAEMON := $(VM_DIR)/kubelet-lite.bin
# The same for the device plugin (tests/vm/scenarios/f-serial-device).
VM_PLUGIN := $(VM_DIR)/kubelet-lite-device-plugin.bin

$(VM_DIR)/vmlinux: board/vm/mkkernel
	@$(if $(Q),echo "  KERNEL  $@")
	$(Q)board/vm/mkkernel $(VM_DIR)
	$(Q)touch $@

$(VM_DIR)/base.cpio: $(VM_DIR)/vmlinux board/vm/mkinitramfs $(VM_GUEST_FILES) board/module.mk
	@$(if $(Q),echo "  CPIO    $@")
	$(Q)board/vm/mkinitramfs base $(VM_DIR)

$(VM_DAEMON): vm-daemon-check
	@mkdir -p $(@D)
	$(Q)if [ -x $(BUILD)/kubelet-lite ]; then \
		cmp -s $(BUILD)/kubelet-lite $@ || cp $(BUILD)/kubelet-lite $@; \
	elif [ ! -f $@ ] || [ -s $@ ]; then : >$@; fi

$(VM_PLUGIN): vm-daemon-check
	@mkdir -p $(@D)
	$(Q)if [ -x $(BUILD)/kubelet-lite-device-plugin ]; then \
		cmp -s $(BUILD)/kubelet-lite-device-plugin $@ || cp $(BUILD)/kubelet-lite-device-plugin $@; \
	elif [ ! -f $@ ] || [ -s $@ ]; then : >$@; fi

$(VM_DIR)/overlay.cpio: $(VM_DIR)/base.cpio board/vm/mkinitramfs $(VM_DAEMON) $(VM_PLUGIN) $(VM_IMAGES)
	@$(if $(Q),echo "  CPIO    $@")
	$(Q)KL_VM_PLUGIN=$(VM_PLUGIN) board/vm/mkinitramfs overlay $(VM_DIR) $(VM_DAEMON) $(VM_IMAGES)

$(VM_DIR)/initramfs.cpio: $(VM_DIR)/base.cpio $(VM_DIR)/overlay.cpio
	$(Q)cat $^ >$@.tmp && mv $@.tmp $@

vm: $(VM_DIR)/vmlinux $(VM_DIR)/initramfs.cpio

vm-test: vm
	$(Q)BUILD=$(BUILD) tests/run vm

.PHONY: vm vm-test vm-daemon-check

# --- the arm64 board VM (board/vm-arm64/README.md) -------------------------
#
#   make vm-arm64        the cross-built daemon (make cross ARCH=aarch64, daemon
#                        only), the arm64 images (make images IMAGE_ARCH=arm64),
#                        then Debian's arm64 kernel + an initramfs laid out like
#                        a device, in $(BUILD)/vm-arm64/
#   make vm-arm64-test   tests/vm/test-arm64-device
#
# The initramfs is base.cpio (busybox, containerd, runc, ctr, jq and their
# libraries from Debian's arm64 .debs, the overlay module, /etc with the SysV
# scripts of board/init/) then device.cpio (kubelet-lite with its libraries
# from the cross sysroot, its config, the example manifests, the images in
# imagePreloadDir).

VM64_DIR := $(BUILD)/vm-arm64
VM64_DEBS := $(BUILD)/debs
VM64_BASE_INPUTS := board/vm-arm64/mkinitramfs board/vm-arm64/modules board/vm/init \
	board/init/containerd.init board/init/kubelet-lite.init board/init/containerd.toml \
	$(shell find board/vm-arm64/rootfs -type f 2>/dev/null)
VM64_DAEMON := $(BUILD)/aarch64/kubelet-lite
VM64_SYSROOT := $(BUILD)/sysroot-aarch64
VM64_IMAGES := $(BUILD)/images-arm64/pause.tar $(BUILD)/images-arm64/busybox.tar $(BUILD)/images-arm64/testbox.tar

$(VM64_DIR)/Image: board/vm-arm64/mkkernel board/vm-arm64/modules
	@$(if $(Q),echo "  KERNEL  $@")
	$(Q)board/vm-arm64/mkkernel $(VM64_DIR) $(VM64_DEBS)
	$(Q)touch $@

$(VM64_DIR)/base.cpio: $(VM64_DIR)/Image $(VM64_BASE_INPUTS)
	@$(if $(Q),echo "  CPIO    $@")
	$(Q)board/vm-arm64/mkinitramfs base $(VM64_DIR) $(VM64_DEBS)

$(VM64_DIR)/device.cpio: $(VM64_DIR)/base.cpio board/vm-arm64/mkinitramfs $(VM64_DAEMON) $(VM64_IMAGES) \
		kubelet-lite/kubelet-lite.yaml $(wildcard manifests/examples/*.yaml)
	@$(if $(Q),echo "  CPIO    $@")
	$(Q)board/vm-arm64/mkinitramfs device $(VM64_DIR) $(VM64_DAEMON) $(VM64_SYSROOT) $(VM64_IMAGES)

$(VM64_DIR)/initramfs.cpio: $(VM64_DIR)/base.cpio $(VM64_DIR)/device.cpio
	$(Q)cat $^ >$@.tmp && mv $@.tmp $@

# The daemon and the images are made by their own modules, whose rules depend
# on ARCH and IMAGE_ARCH: one make each, then the VM's own files.
vm-arm64:
	$(Q)$(MAKE) --no-print-directory cross ARCH=aarch64 CROSS_GOALS=all
	$(Q)$(MAKE) --no-print-directory images IMAGE_ARCH=arm64
	$(Q)$(MAKE) --no-print-directory vm-arm64-files

vm-arm64-files: $(VM64_DIR)/Image $(VM64_DIR)/initramfs.cpio

vm-arm64-test: vm-arm64
	$(Q)BUILD=$(BUILD) BOARD_VM_NO_BUILD=1 tests/vm/test-arm64-device

.PHONY: vm-arm64 vm-arm64-files vm-arm64-test
