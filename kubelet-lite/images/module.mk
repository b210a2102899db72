# Images preloaded from imagePreloadDir (upstream: pkg/kubelet/images).
KL_SRCS += kubelet-lite/images/preload.c
