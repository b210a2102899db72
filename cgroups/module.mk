# cgroups/: cgroup v2 tree, capacity and allocatable, conversions, stats.
# Also the daemon-side resource logic built on it (admission, CPU manager).
KL_SRCS += cgroups/cpuset.c cgroups/cgroup.c cgroups/capacity.c cgroups/convert.c \
	cgroups/tree.c cgroups/stats.c
KL_SRCS += kubelet-lite/admission.c kubelet-lite/cpumanager.c
