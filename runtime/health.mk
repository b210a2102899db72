# runtime/health: grpc.health.v1 Check for grpc probes, generated from our
# trimmed runtime/health.proto by the %.pb-c.c rule of runtime/module.mk.
KL_SRCS += runtime/health.c
KL_GEN += $(BUILD)/gen/runtime/health.pb-c.c
$(BUILD)/obj/gen/runtime/health.pb-c.o: $(BUILD)/gen/runtime/health.pb-c.c
$(BUILD)/obj/runtime/health.o: $(BUILD)/gen/runtime/health.pb-c.h
