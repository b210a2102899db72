# (f) Eviction under a real memory squeeze (beyond upstream: static pods are
# evicted too). A BestEffort pod allocating 450Mi takes memory.available under
# evictionHard; it is the one evicted (usage above its request of 0, ranked
# first), with upstream's reason and message; the Guaranteed pod stays;
# MemoryPressure shows; the evicted pod is admitted again after the pressure
# has been gone for evictionPressureTransitionPeriod.
. "$BOARD_LIB"

board_check "quiet runs" board_wait_pod quiet '.status.phase == "Running"' 60
board_check "hog is evicted" board_wait_pod hog '.status.reason == "Evicted"' 90
board_check_eq "hog phase" Failed "$(board_pod_get hog .status.phase)"
msg=$(board_pod_get hog .status.message)
board_check "message names memory ('$msg')" sh -c "echo '$msg' | grep -q '^The node was low on resource: memory\.'"
board_check_eq "the Guaranteed pod keeps running" Running "$(board_pod_get quiet .status.phase)"
board_check "MemoryPressure was reported" grep -q "node condition MemoryPressure is now True" "$BOARD_KL_LOG"
wait_log() { # PATTERN SECONDS
        i=0
        while [ $i -lt "$2" ]; do
                grep -q "$1" "$BOARD_KL_LOG" && return 0
                sleep 1
                i=$((i + 1))
        done
        return 1
}
board_check "the hog's memory is back (MemoryPressure clears)" wait_log "node condition MemoryPressure is now False" 60
board_check "the evicted pod is admitted again" wait_log "pod 'hog-[^ ]*': the MemoryPressure is gone, admitting it again" 30
board_check "kubelet-lite is still healthy" board_healthz
board_summary
