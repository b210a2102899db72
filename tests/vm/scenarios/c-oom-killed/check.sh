# (c) A container that allocates beyond its memory limit is OOM-killed by the
# kernel inside its own cgroup, and its status says OOMKilled (exit code 137).
. "$BOARD_LIB"

term='.status.containerStatuses[0].state.terminated'
board_check "hog's container terminates" board_wait_pod hog "$term != null" 60
board_check_eq "terminated.reason" OOMKilled "$(board_pod_get hog "$term.reason")"
board_check_eq "terminated.exitCode" 137 "$(board_pod_get hog "$term.exitCode")"
board_check "pod phase becomes Failed (restartPolicy Never)" board_wait_pod hog '.status.phase == "Failed"' 20
pcg=$(board_pod_cgroup hog)
board_check_eq "pod cgroup memory.max" 67108864 "$(cat "$pcg/memory.max" 2>/dev/null)"
kills=$(awk '$1 == "oom_kill" { print $2 }' "$pcg/memory.events" 2>/dev/null)
board_check "pod cgroup memory.events oom_kill >= 1 ('$kills')" test "${kills:-0}" -ge 1
board_check "the kernel logged a memory cgroup OOM kill of kltest" \
        sh -c 'dmesg | grep -q "Memory cgroup out of memory: Killed process [0-9]* (kltest)"'
board_check "kubelet-lite is still healthy" board_healthz
board_summary
