KL_SRCS += kubelet-lite/eviction.c
