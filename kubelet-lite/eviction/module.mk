# Node-pressure eviction (upstream: pkg/kubelet/eviction).
KL_SRCS += kubelet-lite/eviction/eviction.c kubelet-lite/eviction/signals.c kubelet-lite/eviction/watch.c
