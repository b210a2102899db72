# New kubelet-lite modules (log rotation, metrics, /proc/self stats).
KL_SRCS += kubelet-lite/procstat.c kubelet-lite/metrics.c kubelet-lite/logrotate.c
