# runtime/grpcserver and the device plugin API (v1beta1), generated from our
# trimmed runtime/deviceplugin.proto by the %.pb-c.c rule of runtime/module.mk.
KL_SRCS += runtime/grpcserver.c runtime/grpcstream.c
KL_GEN += $(BUILD)/gen/runtime/deviceplugin.pb-c.c
$(BUILD)/obj/gen/runtime/deviceplugin.pb-c.o: $(BUILD)/gen/runtime/deviceplugin.pb-c.c
