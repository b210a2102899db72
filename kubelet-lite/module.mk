# The daemon's own wiring: configuration, the event loop, events, sd_notify,
# and the commands besides the daemon (validate, the small CLI).
KL_SRCS += kubelet-lite/config.c kubelet-lite/configfile.c kubelet-lite/event.c kubelet-lite/notify.c \
	kubelet-lite/recorder.c kubelet-lite/validate.c kubelet-lite/cli.c
