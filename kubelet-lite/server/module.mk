# HTTP endpoints, metrics, node status and stats (upstream: pkg/kubelet/server, metrics).
KL_SRCS += kubelet-lite/server/http.c kubelet-lite/server/healthz.c kubelet-lite/server/metrics.c kubelet-lite/server/nodestatus.c \
	kubelet-lite/server/procstat.c kubelet-lite/server/dirstats.c
