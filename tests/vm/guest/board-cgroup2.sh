# Guest half of tests/vm/test-board-cgroup2: the board itself, no kubelet-lite.
# Runs containers with ctr and reads the cgroup v2 files the kernel keeps.
. "$BOARD_LIB"
IMG=localhost/kubelet-lite/testbox:1.0
CG=/sys/fs/cgroup
CTR="ctr -n k8s.io"
MIB=1048576

# --- the board
board_check_eq "cgroup2 is mounted on /sys/fs/cgroup" cgroup2 \
        "$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)"
ctl=" $(cat $CG/cgroup.subtree_control) "
for c in cpu memory pids cpuset io; do
        board_check "controller $c enabled in the root's subtree_control" \
                sh -c "case '$ctl' in *' $c '*) exit 0 ;; esac; exit 1"
done
board_check "no cgroup v1 hierarchy is mounted" sh -c '! grep -q " cgroup " /proc/mounts'
board_check "containerd runs" pidof containerd
board_check "ctr reaches containerd" $CTR version
for i in pause busybox testbox; do
        board_check "image localhost/kubelet-lite/$i:1.0 imported" \
                sh -c "$CTR images ls -q | grep -qx localhost/kubelet-lite/$i:1.0"
done

# --- a container with a memory limit gets memory.max, and its process is in it
$CTR run -d --memory-limit $((64 * MIB)) --cgroup /board-test/limits $IMG limits /kltest sleep >/dev/null 2>&1
sleep 0.5
pid=$($CTR tasks ls | awk '$1 == "limits" { print $2 }')
board_check "ctr run -d --memory-limit starts a task" test -n "$pid"
board_check_eq "its memory.max" $((64 * MIB)) "$(cat $CG/board-test/limits/memory.max 2>/dev/null)"
board_check_eq "its process's cgroup" "0::/board-test/limits" "$(cat /proc/$pid/cgroup 2>/dev/null)"
$CTR tasks kill -s KILL limits >/dev/null 2>&1
sleep 0.3
$CTR tasks delete limits >/dev/null 2>&1
$CTR containers rm limits >/dev/null 2>&1
board_check "runc removes the container's cgroup" test ! -d $CG/board-test/limits

# --- memhog 200 MiB under a 64 MiB limit is OOM-killed inside its cgroup only
mkdir -p $CG/board-oom
before=$(awk '$1 == "oom_kill" { print $2 }' $CG/board-oom/memory.events)
$CTR run --rm --memory-limit $((64 * MIB)) --cgroup /board-oom/hog $IMG hog /kltest memhog 200 >/tmp/hog.out 2>&1
rc=$?
after=$(awk '$1 == "oom_kill" { print $2 }' $CG/board-oom/memory.events)
board_check_eq "memhog 200 in 64 MiB: exit status (SIGKILL)" 137 "$rc"
board_check "memhog started ('kltest: memhog' on stdout)" grep -q '^kltest: memhog' /tmp/hog.out
board_check_eq "memory.events oom_kill went up by one" 1 $((after - before))
board_check "the kernel logged a memory cgroup OOM kill of kltest" \
        sh -c 'dmesg | grep -q "Memory cgroup out of memory: Killed process [0-9]* (kltest)"'
board_check "containerd survived the OOM kill" $CTR version

# --- pids.max holds a fork bomb
mkdir -p $CG/board-pids
echo 16 >$CG/board-pids/pids.max
$CTR run -d --log-uri file:///tmp/bomb.out --cgroup /board-pids/bomb $IMG bomb /kltest forkbomb 100 >/dev/null 2>&1
sleep 2
n=$(cat $CG/board-pids/pids.current)
board_check_le "forkbomb 100 under pids.max 16: pids.current" 16 "$n"
# The refusals are counted in the forking task's own cgroup.
ev=$(awk '$1 == "max" { print $2 }' $CG/board-pids/bomb/pids.events)
board_check "pids.events max counts refused forks (${ev:-none})" test "${ev:-0}" -gt 0
ok=$(sed -n 's/^kltest: forkbomb \([0-9]*\) of 100 forks succeeded.*/\1/p' /tmp/bomb.out)
board_check_le "kltest's own count of forks that worked" 15 "$ok"
$CTR tasks kill -a -s KILL bomb >/dev/null 2>&1
sleep 0.3
$CTR tasks delete bomb >/dev/null 2>&1
$CTR containers rm bomb >/dev/null 2>&1

# --- a 0.2 CPU quota holds a busy loop to ~20 % of one CPU
$CTR run -d --cpus 0.2 --cgroup /board-cpu/loop $IMG loop /kltest busy-loop >/dev/null 2>&1
sleep 0.5
board_check_eq "--cpus 0.2 gives cpu.max" "20000 100000" "$(cat $CG/board-cpu/loop/cpu.max 2>/dev/null)"
u0=$(awk '$1 == "usage_usec" { print $2 }' $CG/board-cpu/loop/cpu.stat)
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 3
u1=$(awk '$1 == "usage_usec" { print $2 }' $CG/board-cpu/loop/cpu.stat)
t1=$(cut -d' ' -f1 /proc/uptime)
pct=$(echo "$u0 $u1 $t0 $t1" | awk '{ printf "%d", ($2 - $1) / (($4 - $3) * 1e6) * 100 }')
board_check_le "busy loop's CPU use over 3 s, percent of one CPU" 25 "$pct"
board_check "and it did run (>= 5 %)" test "$pct" -ge 5
$CTR tasks kill -s KILL loop >/dev/null 2>&1
sleep 0.3
$CTR tasks delete loop >/dev/null 2>&1
$CTR containers rm loop >/dev/null 2>&1

board_summary
