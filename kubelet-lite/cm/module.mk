# The node: capacity, admission, CPU manager, sysctls (upstream: pkg/kubelet/cm, lifecycle, sysctl).
KL_SRCS += kubelet-lite/cm/node.c kubelet-lite/cm/admission.c kubelet-lite/cm/cpumanager.c kubelet-lite/cm/sysctl.c
KL_SRCS += kubelet-lite/cm/devicestate.c kubelet-lite/cm/devicechecksum.c kubelet-lite/cm/devicemanager.c
