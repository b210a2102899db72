# The read-mostly Kubernetes API facade that kubectl talks to: TLS and token,
# discovery, pods, node, events, logs, Table output, watch, and the
# exec/attach/port-forward proxy (upstream: pkg/kubelet/server, streaming).
KL_SRCS += kubelet-lite/apiserver/apiconn.c kubelet-lite/apiserver/apiserver.c kubelet-lite/apiserver/apitable.c \
	kubelet-lite/apiserver/streamproxy.c kubelet-lite/apiserver/tlscert.c \
	kubelet-lite/apiserver/apilogs.c kubelet-lite/apiserver/apidiscovery.c
