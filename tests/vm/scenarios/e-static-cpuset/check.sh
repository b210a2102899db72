# (e) Static CPU manager (cpuManagerPolicy: static, reservedSystemCPUs "0", on
# the 2-CPU board): a Guaranteed container with an integer cpu: 1 gets CPU 1
# for itself; every other container stays in the shared pool, CPU 0. The
# reserved CPU leaves 1000m allocatable, all of it taken by 'pinned', so the
# other pod is BestEffort (no requests).
. "$BOARD_LIB"

board_check "pinned runs" board_wait_pod pinned '.status.phase == "Running"' 60
board_check "shared runs" board_wait_pod shared '.status.phase == "Running"' 60
board_check_eq "pinned: qosClass" Guaranteed "$(board_pod_get pinned '.status.qosClass')"
board_check_eq "shared: qosClass" BestEffort "$(board_pod_get shared '.status.qosClass')"
pc=$(board_container_cgroup pinned main)
sc=$(board_container_cgroup shared main)
board_check_eq "pinned container cpuset.cpus" 1 "$(cat "$pc/cpuset.cpus" 2>/dev/null)"
board_check_eq "pinned container cpuset.cpus.effective" 1 "$(cat "$pc/cpuset.cpus.effective" 2>/dev/null)"
board_check_eq "shared container cpuset.cpus.effective (shared pool)" 0 "$(cat "$sc/cpuset.cpus.effective" 2>/dev/null)"
ppid=$(head -n1 "$pc/cgroup.procs" 2>/dev/null)
board_check_eq "pinned process's Cpus_allowed_list" 1 \
        "$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$ppid/status" 2>/dev/null)"
board_summary
