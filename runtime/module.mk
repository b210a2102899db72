# runtime/: the CRI client (runtime.v1 over grpc C core + protobuf-c).
#
# api.pb-c.{c,h} are generated from our trimmed runtime/api.proto. The rule is
# a pattern rule with both outputs as targets, which GNU make treats as one
# recipe producing both, so the header exists whenever the .c does; every
# KL_SRCS object has an order-only dependency on $(KL_GEN).

KL_SRCS += runtime/grpc.c runtime/cri.c
KL_GEN += $(BUILD)/gen/runtime/api.pb-c.c

$(BUILD)/gen/runtime/%.pb-c.c $(BUILD)/gen/runtime/%.pb-c.h: runtime/%.proto runtime/module.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  PROTOC  $<")
	$(Q)$(PROTOC_C) --proto_path=runtime --c_out=$(@D) $<

# Named explicitly so make never treats them as intermediate files and deletes
# them; cri.o includes the header, so a changed api.proto recompiles it.
$(BUILD)/obj/gen/runtime/api.pb-c.o: $(BUILD)/gen/runtime/api.pb-c.c
$(BUILD)/obj/runtime/cri.o: $(BUILD)/gen/runtime/api.pb-c.h
