# The daemon's own wiring: configuration, the event loop, events, sd_notify.
KL_SRCS += kubelet-lite/config.c kubelet-lite/configfile.c kubelet-lite/event.c kubelet-lite/notify.c \
	kubelet-lite/recorder.c kubelet-lite/validate.c
