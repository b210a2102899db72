# Container logs: rotation and /var/log/containers links (upstream: pkg/kubelet/logs).
KL_SRCS += kubelet-lite/logs/logrotate.c kubelet-lite/logs/loglinks.c kubelet-lite/logs/podlogs.c
