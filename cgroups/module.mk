# cgroups/: cgroup v2 tree, capacity and allocatable, conversions, stats.
KL_SRCS += cgroups/cpuset.c cgroups/cgroup.c cgroups/capacity.c cgroups/convert.c \
	cgroups/tree.c cgroups/stats.c
