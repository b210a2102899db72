# Images preloaded from imagePreloadDir, and image garbage collection (upstream: pkg/kubelet/images).
KL_SRCS += kubelet-lite/images/preload.c
KL_SRCS += kubelet-lite/images/imagegc.c
