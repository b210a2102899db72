# Probes and lifecycle handlers (upstream: pkg/kubelet/prober, lifecycle).
KL_SRCS += kubelet-lite/prober/prober.c kubelet-lite/prober/handler.c
