# (a) Admission: a pod whose memory request does not fit the node's allocatable
# memory is rejected with reason OutOfmemory; once another pod's manifest is
# removed, it is admitted and runs.
. "$BOARD_LIB"
: "${SCENARIO_DIR:=/mnt/host/files}"

board_check "big-a (450Mi) runs" board_wait_pod big-a '.status.phase == "Running"' 60
board_manifest_add "$SCENARIO_DIR/extra/big-b.yaml"
board_check "big-b (450Mi more) is rejected" board_wait_pod big-b '.status.phase == "Failed"' 30
board_check_eq "big-b: status.reason" OutOfmemory "$(board_pod_get big-b '.status.reason')"
board_check_match "big-b: status.message names memory" "*memory*" "$(board_pod_get big-b '.status.message')"
board_check_eq "big-b: no container of it runs" 0 \
        "$(board_pod_get big-b '[.status.containerStatuses[]? | select(.state.running != null)] | length')"
board_check_eq "big-a still runs" Running "$(board_pod_get big-a '.status.phase')"

board_manifest_rm big-a.yaml
board_check "big-a goes away after its manifest is removed" board_wait_gone big-a 60
board_check "big-b is admitted and runs" board_wait_pod big-b '.status.phase == "Running"' 60
board_check_eq "big-b: qosClass" Guaranteed "$(board_pod_get big-b '.status.qosClass')"
board_summary
