# Pods: workers, relist (PLEG), start, images, kill and hooks, eviction glue,
# status, and the manager on top (upstream: pkg/kubelet, kuberuntime, pleg, status).
KL_SRCS += kubelet-lite/pod/worker.c kubelet-lite/pod/spec.c kubelet-lite/pod/volumes.c kubelet-lite/pod/relist.c \
	kubelet-lite/pod/sync.c \
	kubelet-lite/pod/image.c kubelet-lite/pod/kill.c kubelet-lite/pod/start.c kubelet-lite/pod/evict.c \
	kubelet-lite/pod/status.c kubelet-lite/pod/manager.c
