KL_SRCS += kubelet-lite/config.c kubelet-lite/configfile.c kubelet-lite/event.c kubelet-lite/http.c \
	kubelet-lite/notify.c kubelet-lite/crispec.c kubelet-lite/podmanager.c kubelet-lite/podstatus.c kubelet-lite/podimage.c kubelet-lite/podkill.c kubelet-lite/podstart.c kubelet-lite/podrelist.c kubelet-lite/podevict.c kubelet-lite/nodestatus.c \
	kubelet-lite/node.c kubelet-lite/preload.c kubelet-lite/recorder.c \
	kubelet-lite/apiconn.c kubelet-lite/apiserver.c kubelet-lite/apitable.c kubelet-lite/jsonq.c kubelet-lite/podlogs.c kubelet-lite/streamproxy.c kubelet-lite/cli.c kubelet-lite/tlscert.c kubelet-lite/apilogs.c kubelet-lite/apidiscovery.c
