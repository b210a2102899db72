# (d) A busy loop limited to 200m CPU uses at most about 20 % of one CPU:
# the usage_usec delta of its cgroup's cpu.stat over 5 s.
. "$BOARD_LIB"

board_check "spinner runs" board_wait_pod spinner '.status.phase == "Running"' 60
cg=$(board_container_cgroup spinner spin)
board_check "container cgroup found ('$cg')" test -n "$cg" -a -d "$cg"
board_check_eq "container cpu.max" "20000 100000" "$(cat "$cg/cpu.max" 2>/dev/null)"
sleep 1
u0=$(awk '$1 == "usage_usec" { print $2 }' "$cg/cpu.stat" 2>/dev/null)
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 5
u1=$(awk '$1 == "usage_usec" { print $2 }' "$cg/cpu.stat" 2>/dev/null)
t1=$(cut -d' ' -f1 /proc/uptime)
pct=$(echo "${u0:-0} ${u1:-0} $t0 $t1" | awk '{ printf "%d", ($2 - $1) / (($4 - $3) * 1e6) * 100 }')
board_check_le "CPU use over 5 s, percent of one CPU" 23 "$pct"
board_check "and it did spin (>= 5 %, got $pct)" test "$pct" -ge 5
thr=$(awk '$1 == "nr_throttled" { print $2 }' "$cg/cpu.stat" 2>/dev/null)
board_check "cpu.stat nr_throttled > 0 ('$thr')" test "${thr:-0}" -gt 0
board_summary
