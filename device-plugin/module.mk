# device-plugin/: kubelet-lite-device-plugin, a generic device plugin for
# device nodes matched by globs (docs/DEVICES.md). Its logic (plugin.c) is in
# libkl.a for the unit and fuzz tests; main.c is the program.
KL_SRCS += device-plugin/plugin.c

all: $(BUILD)/kubelet-lite-device-plugin

$(BUILD)/kubelet-lite-device-plugin: $(BUILD)/obj/device-plugin/main.o $(BUILD)/libkl.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
