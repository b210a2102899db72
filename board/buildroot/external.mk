include $(sort $(wildcard $(BR2_EXTERNAL_KUBELET_LITE_PATH)/package/*/*.mk))
