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

$(VM_DIR)/overlay.cpio: $(VM_DIR)/base.cpio board/vm/mkinitramfs $(VM_DAEMON) $(VM_IMAGES)
	@$(if $(Q),echo "  CPIO    $@")
	$(Q)board/vm/mkinitramfs overlay $(VM_DIR) $(VM_DAEMON) $(VM_IMAGES)

$(VM_DIR)/initramfs.cpio: $(VM_DIR)/base.cpio $(VM_DIR)/overlay.cpio
	$(Q)cat $^ >$@.tmp && mv $@.tmp $@

vm: $(VM_DIR)/vmlinux $(VM_DIR)/initramfs.cpio

vm-test: vm
	$(Q)BUILD=$(BUILD) tests/run vm

.PHONY: vm vm-test vm-daemon-check
