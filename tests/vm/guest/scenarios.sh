# Guest half of tests/vm/test-kubelet-scenarios: run every scenario found in
# /mnt/host/files/<name>/ in order, in one boot. Before each one, board_reset
# leaves no pod, container or pod cgroup behind and restarts kubelet-lite with
# the base config plus the scenario's config.yaml; then its manifests/ are
# loaded and its check.sh runs (at most 150 s).
. "$BOARD_LIB"
total_pass=0 total_fail=0
for dir in /mnt/host/files/*/; do
        dir=${dir%/}
        name=$(basename "$dir")
        [ -f "$dir/check.sh" ] || continue
        echo "== scenario $name"
        start=$(cut -d' ' -f1 /proc/uptime)
        if ! board_reset "$dir/config.yaml" >/tmp/reset.out 2>&1; then
                cat /tmp/reset.out
                echo "FAIL $name: kubelet-lite did not come back after the reset"
                total_fail=$((total_fail + 1))
                continue
        fi
        [ -d "$dir/manifests" ] && board_manifests_load "$dir/manifests"
        SCENARIO_DIR=$dir timeout -s KILL 150 sh "$dir/check.sh" 2>&1 | tee /tmp/scenario.out
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/scenario.out | tail -n1)
        if [ -z "$line" ]; then
                echo "FAIL $name: check.sh gave no summary (timeout or crash)"
                total_fail=$((total_fail + 1))
        else
                p=${line%% passed*}
                f=${line#*passed, }
                f=${f%% failed*}
                total_pass=$((total_pass + p))
                total_fail=$((total_fail + f))
                if [ "$f" -gt 0 ]; then
                        echo "-- pods at the failure:"
                        board_pods | jq -c '.items[]? | {name: .metadata.name, phase: .status.phase,
                                reason: .status.reason, message: .status.message,
                                containers: [.status.containerStatuses[]? | {name, state}]}' 2>/dev/null
                fi
        fi
        end=$(cut -d' ' -f1 /proc/uptime)
        echo "-- $name took $(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')s"
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
