# (b) A Guaranteed pod's cgroup holds what its manifest asks for: at pod level
# the sums of its containers (cpu 500m, memory 128Mi), at container level each
# container's own limits; pids.max comes from podPidsLimit (config.yaml).
# Upstream conversions: cpu.max = milli * 100000 / 1000 over a 100 ms period;
# cpu.weight = 1 + (shares - 2) * 9999 / 262142 with shares = milli * 1024 / 1000.
. "$BOARD_LIB"
MIB=1048576

# Both first: while a pod starts, /pods may answer slowly.
board_check "guaranteed runs" board_wait_pod guaranteed '.status.phase == "Running"' 60
board_check "burstable runs" board_wait_pod burstable '.status.phase == "Running"' 60
board_check_eq "guaranteed: qosClass" Guaranteed "$(board_pod_get guaranteed '.status.qosClass')"
uid=$(board_pod_uid guaranteed)
pcg=/sys/fs/cgroup/kubepods/pod$uid
board_check "pod cgroup is /sys/fs/cgroup/kubepods/pod<uid> (uid '$uid')" test -n "$uid" -a -d "$pcg"
board_check_eq "pod memory.max" $((128 * MIB)) "$(cat "$pcg/memory.max" 2>/dev/null)"
board_check_eq "pod memory.min" $((128 * MIB)) "$(cat "$pcg/memory.min" 2>/dev/null)"
board_check_eq "pod cpu.max" "50000 100000" "$(cat "$pcg/cpu.max" 2>/dev/null)"
# shares 512 -> weight 1 + 510 * 9999 / 262142 = 20
board_check_eq "pod cpu.weight" 20 "$(cat "$pcg/cpu.weight" 2>/dev/null)"
board_check_eq "pod pids.max (podPidsLimit)" 100 "$(cat "$pcg/pids.max" 2>/dev/null)"

c1=$(board_container_cgroup guaranteed one)
c2=$(board_container_cgroup guaranteed two)
board_check "container cgroups are under the pod's ('$c1')" sh -c "case '$c1' in '$pcg'/*) exit 0;; esac; exit 1"
board_check_eq "container one: memory.max" $((96 * MIB)) "$(cat "$c1/memory.max" 2>/dev/null)"
board_check_eq "container one: cpu.max" "30000 100000" "$(cat "$c1/cpu.max" 2>/dev/null)"
# shares 307 -> weight 1 + 305 * 9999 / 262142 = 12
board_check_eq "container one: cpu.weight" 12 "$(cat "$c1/cpu.weight" 2>/dev/null)"
board_check_eq "container two: memory.max" $((32 * MIB)) "$(cat "$c2/memory.max" 2>/dev/null)"
board_check_eq "container two: cpu.max" "20000 100000" "$(cat "$c2/cpu.max" 2>/dev/null)"
pid=$(cat "$c1/cgroup.procs" 2>/dev/null | head -n1)
board_check "container one's process is in its cgroup" test -n "$pid"

board_check_eq "burstable: qosClass" Burstable "$(board_pod_get burstable '.status.qosClass')"
bcg=$(board_pod_cgroup burstable)
board_check_eq "burstable pod cgroup path" "/sys/fs/cgroup/kubepods/burstable/pod$(board_pod_uid burstable)" "$bcg"
board_check_eq "burstable pod memory.max" $((64 * MIB)) "$(cat "$bcg/memory.max" 2>/dev/null)"
board_check_eq "burstable pod cpu.max (no cpu limit)" "max 100000" "$(cat "$bcg/cpu.max" 2>/dev/null)"
board_summary
