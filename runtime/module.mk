# runtime/: the CRI client (runtime.v1 over grpc C core + protobuf-c).
#
# api.pb-c.{c,h} are generated from our trimmed runtime/api.proto. The rule is
# a pattern rule with both outputs as targets, which GNU make treats as one
# recipe producing both, so the header exists whenever the .c does; every
# KL_SRCS object has an order-only dependency on $(KL_GEN).

KL_SRCS += runtime/grpc.c runtime/cri.c runtime/cristream.c
KL_GEN += $(BUILD)/gen/runtime/api.pb-c.c
include runtime/health.mk
include runtime/deviceplugin.mk

$(BUILD)/gen/runtime/%.pb-c.c $(BUILD)/gen/runtime/%.pb-c.h: runtime/%.proto runtime/module.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  PROTOC  $<")
	$(Q)$(PROTOC_C) --proto_path=runtime --c_out=$(@D) $<

# Named explicitly so make never treats them as intermediate files and deletes
# them; cri.o includes the header, so a changed api.proto recompiles it.
$(BUILD)/obj/gen/runtime/api.pb-c.o: $(BUILD)/gen/runtime/api.pb-c.c
$(BUILD)/obj/runtime/cri.o: $(BUILD)/gen/runtime/api.pb-c.h

# The reconnect test restarts containerd, so it runs from a shell test with its
# own containerd; its C half is built here, outside build/tests/integration
# (which tests/run executes as standalone integration tests).
RUNTIME_HELPERS := $(BUILD)/tests/helpers/runtime/cri-reconnect
# (TEST_OBJS is not defined yet when this file is read, hence the patsubst.)
$(BUILD)/tests/helpers/runtime/%: $(BUILD)/obj/tests/integration/runtime/%.o \
		$(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_SUPPORT)) $(BUILD)/libkl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
tests: $(RUNTIME_HELPERS)
