#!/bin/bash
# Manifest intake with real file operations, checked against what the pods
# did: editors (vim's 4913 probe and backup-rename), cp, mv, sed -i, appends,
# rsync and rsync --inplace, ignored names, a directory deleted and recreated,
# an invalid edit that keeps the running pod, duplicates, multi-document files.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
M=$KL_MANIFESTS
pod() { # name [label]
        cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {v: "${2:-1}"}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: localhost/kubelet-lite/testbox:1.0
    command: ["/kltest", "sleep"]
YAML
}
cid() { pod_field "$1-testnode" '.status.containerStatuses[0].containerID'; }
npods() { pods_jq '.items | length'; }
starts() { grep -c "pod '$1-testnode': container 'c' started" "$KL_TMP/kubelet-lite.log"; }
running() { pod_is "$1-testnode" '.status.containerStatuses[0].state.running != null' true; }
# Observable progress instead of sleeping: after mark, settled holds once the
# directory has been scanned again and the pod manager has relisted twice
# since, so whatever the change was going to do has been done.
metric() { curl -fs "http://127.0.0.1:$KL_RO_PORT/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
syncs() { metric kubelet_lite_manifest_syncs_total; }
relists() { metric 'kubelet_runtime_operations_total{operation_type="list_podsandbox"}'; }
mark() { S0=$(syncs); L0=$(relists); }
settled() { [ "$(syncs)" -gt "$S0" ] && [ "$(relists)" -ge $((L0 + 2)) ]; }

pod web >"$M/web.yaml"
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 30 "web runs" running web
c0=$(cid web)

# vim: probe file 4913, backup by rename to web.yaml~, write the new file, drop the backup
mark
touch "$M/4913" && rm "$M/4913"
mv "$M/web.yaml" "$M/web.yaml~"
pod web >"$M/web.yaml"
rm "$M/web.yaml~"
touch "$M/.web.yaml.swp" "$M/web.yaml.bak" "$M/#web.yaml#" "$M/web.yaml.dpkg-new" "$M/web.yaml.rpmsave" "$M/web.tmp"
pod rogue >"$M/.web.yaml.swp"; pod rogue >"$M/web.yaml.bak"; pod rogue >"$M/web.yaml.dpkg-new"; pod rogue >"$M/#web.yaml#"
mkdir -p "$M/subdir" && pod rogue >"$M/subdir/rogue.yaml"
wait_for 20 "intake has scanned the changes and the pod manager relisted" settled
check "vim-style save of identical content: same container, no restart" test "$(cid web)" = "$c0"
check "swap, backup, dpkg, rpm, tmp, #...# files and subdirectories start no pod" test "$(npods)" = 1
# skipped names make no sync of their own; the next scan (here the 2 s rescan) logs them
wait_for 10 "each skipped name is logged at info level, with the reason" bash -c "grep -q \"not reading '.web.yaml.swp': hidden file\" '$KL_TMP/kubelet-lite.log' && grep -q \"not reading 'subdir': not a .yaml\" '$KL_TMP/kubelet-lite.log'"
mark
wait_for 10 "...a later rescan" bash -c "[ \$(curl -fs http://127.0.0.1:$KL_RO_PORT/metrics | awk '\$1 == \"kubelet_lite_manifest_syncs_total\" {print int(\$2)}') -gt $S0 ]"
check "...logs them no more (once while they stay)" test "$(grep -c "not reading '.web.yaml.swp'" "$KL_TMP/kubelet-lite.log")" = 1
rm -rf "$M/.web.yaml.swp" "$M/web.yaml.bak" "$M/#web.yaml#" "$M/web.yaml.dpkg-new" "$M/web.yaml.rpmsave" "$M/web.tmp" "$M/subdir"

# cp and mv
pod copied >"$KL_TMP/copied.yaml" && cp "$KL_TMP/copied.yaml" "$M/"
pod moved >"$KL_TMP/moved.yaml" && mv "$KL_TMP/moved.yaml" "$M/"
wait_for 30 "cp'd manifest runs" running copied
wait_for 30 "mv'd manifest runs" running moved
check "each started exactly once" test "$(starts copied)/$(starts moved)" = 1/1

# a file written in several appends (each open/append/close) starts one pod
{
        pod appended | head -5 >>"$M/appended.yaml"; sleep 0.03
        pod appended | sed -n 6,9p >>"$M/appended.yaml"; sleep 0.03
        pod appended | sed -n '10,$p' >>"$M/appended.yaml"
}
wait_for 30 "file written in three appends runs" running appended
mark
wait_for 20 "...intake and relists settled" settled
check "...and started once" test "$(starts appended)" = 1

# sed -i: one change, the pod replaced once
cw=$(cid web)
sed -i 's/v: "1"/v: "2"/' "$M/web.yaml"
wait_for 30 "sed -i: web replaced (new container)" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"web-testnode\") | .status.containerStatuses[0].containerID')\" != '$cw' ] && curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -e '.items[] | select(.metadata.name==\"web-testnode\") | .status.containerStatuses[0].state.running' >/dev/null"
mark
wait_for 20 "...intake and relists settled" settled
check "...exactly one new start (2 in total)" test "$(starts web)" = 2

# rsync (temp dotfile + rename) and rsync --inplace
pod synced 1 >"$KL_TMP/synced.yaml"
rsync "$KL_TMP/synced.yaml" "$M/"
wait_for 30 "rsync'd manifest runs" running synced
pod synced 2 >"$KL_TMP/synced.yaml"
rsync --inplace --ignore-times "$KL_TMP/synced.yaml" "$M/"
wait_for 30 "rsync --inplace update replaces it" pod_is synced-testnode '.metadata.labels.v' 2
mark
wait_for 20 "...intake and relists settled" settled
check "...one start per version (2)" test "$(starts synced)" = 2

# an invalid edit keeps the running pod and says where
cm=$(cid moved)
sed -i 's/^kind: Pod/kind: Pod\nspec: [oops/' "$M/moved.yaml"
wait_for 10 "invalid edit: the running pod is kept, status names file and line" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"moved-testnode\") | .status.message' | grep -qE 'moved.yaml:[0-9]+:[0-9]+'"
check "...same container" test "$(cid moved)" = "$cm"
check "...error logged with file:line:col" grep -qE "moved.yaml:[0-9]+:[0-9]+:" "$KL_TMP/kubelet-lite.log"
pod moved 3 >"$M/moved.yaml"
wait_for 30 "fixed: the change applies" pod_is moved-testnode '.metadata.labels.v' 3

# duplicates: first in sorted order wins; multi-document files give every pod
pod copied 9 >"$M/zz-dup.yaml"
{ pod multi-a; echo "---"; pod multi-b; } >"$M/multi.yaml"
wait_for 30 "both documents of a multi-document file run" bash -c "curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -e '[.items[].metadata.name] | index(\"multi-a-testnode\") and index(\"multi-b-testnode\")' >/dev/null"
check "duplicate pod name: the later file is rejected naming both files" grep -qE "zz-dup.yaml.*copied.yaml|copied.yaml.*zz-dup.yaml" "$KL_TMP/kubelet-lite.log"
check "...and the first one is untouched" pod_is copied-testnode '.metadata.labels.v' 1
rm "$M/zz-dup.yaml"

# the directory deleted, then recreated
n_before=$(npods)
mv "$M" "$KL_TMP/manifests.away"
no_pods() { [ "$(npods)" = 0 ]; }
wait_for 30 "directory gone: its pods are removed" no_pods
mv "$KL_TMP/manifests.away" "$M"
wait_for 40 "directory back: its pods run again ($n_before)" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '[.items[] | select(.status.phase==\"Running\")] | length')\" = $n_before ]"
pods_jq ".items[] | [.metadata.name, .status.phase] | @tsv"
check "kubelet-lite never exited" kill -0 "$KL_PID"
kl_finish
