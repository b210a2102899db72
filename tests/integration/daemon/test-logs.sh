#!/bin/bash
# Container logs: upstream's paths, rotation at containerLogMaxSize with gzip
# compression and containerLogMaxFiles kept, the runtime told to reopen, and
# the logs of a removed pod deleted.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
kl_config <<'YAML'
containerLogMaxSize: 16Ki
containerLogMaxFiles: 3
containerLogMonitorInterval: 1s
YAML
cat >"$KL_MANIFESTS/chatty.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: talk
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo line $i 0123456789012345678901234567890123456789012345678901234567890123456789; sleep 0.002; done"]
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "pod chatty is Running" pod_is chatty-testnode .status.phase Running
uid=$(pod_field chatty-testnode .metadata.uid)
dir="$KL_LOGS/default_chatty-testnode_$uid/talk"
wait_for 30 "the log is rotated and compressed (0.log.<time>.gz appears)" bash -c "ls '$dir' | grep -qE '^0\.log\.[0-9]{8}-[0-9]{6}\.gz$'"
sleep 4
n=$(ls "$dir" | grep -cE '^0\.log')
check "at most containerLogMaxFiles (3) files are kept, live one included ($n)" test "$n" -le 3
check "no temporary files are left" bash -c "! ls '$dir' | grep -q tmp"
gz=$(ls "$dir" | grep -E '\.gz$' | head -1)
check "a rotated file decompresses to CRI log lines" bash -c "zcat '$dir/$gz' | head -1 | grep -qE '^[0-9T:.Z-]+ stdout F line [0-9]+ '"
size=$(stat -c %s "$dir/0.log")
check "the live log was reopened by the runtime and keeps growing ($size bytes)" bash -c "sleep 1; [ \$(stat -c %s '$dir/0.log') -gt 0 ]"
# upstream's /var/log/containers links (here containerLogLinksDir), which log
# shippers tail with a glob such as Fluent Bit's "/var/log/containers/*.log"
cid=$(pod_field chatty-testnode '.status.containerStatuses[0].containerID' | sed 's|^containerd://||')
links=( "$KL_TMP"/containers/*.log )
check "the shipper's glob finds chatty-testnode_default_talk-<id>.log" test "${links[*]}" = "$KL_TMP/containers/chatty-testnode_default_talk-$cid.log"
check "...a symlink to the CRI log file" test "$(readlink "${links[0]}")" = "$dir/0.log"
check "...reading through it gives CRI log lines" bash -c "head -1 '${links[0]}' | grep -qE '^[0-9T:.Z-]+ stdout [FP] line [0-9]+ '"
rm "$KL_MANIFESTS/chatty.yaml"
wait_for 20 "the removed pod's log directory is deleted" test ! -d "$KL_LOGS/default_chatty-testnode_$uid"
check "...and its link is gone with it" bash -c "! ls '$KL_TMP'/containers/*.log 2>/dev/null | grep -q ."
kl_finish
