KL_SRCS += kubelet-lite/handler.c kubelet-lite/prober.c
