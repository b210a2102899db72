#!/bin/bash
# A pod being removed stays in /pods until its containers and sandbox are
# gone, marked with metadata.deletionTimestamp and deletionGracePeriodSeconds
# as upstream (its pod workers keep a terminating pod until
# SyncTerminatedPod); its container states are the real ones. A pod replaced
# by a changed manifest is listed as terminating next to its successor.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup
mkdir -p "$KL_TMP/s"
BB=localhost/kubelet-lite/busybox:1.0
cat >"$KL_MANIFESTS/trap.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: trap}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 10
  volumes: [{name: s, hostPath: {path: $KL_TMP/s, type: Directory}}]
  containers:
  - name: c
    image: $BB
    command: [sh, -c, "trap 'sleep 1; echo term >> /s/order; exit 0' TERM; while true; do sleep 1; done"]
    lifecycle:
      preStop: {exec: {command: [sh, -c, "echo prestop >> /s/order"]}}
    volumeMounts: [{name: s, mountPath: /s}]
YAML
kl_start || { not_ok "kubelet-lite starts"; kl_finish; }
wait_for 40 "pod Running and ready" pod_is trap-testnode '.status.containerStatuses[0].ready' true
uid=$(pod_field trap-testnode .metadata.uid)

rm -f "$KL_MANIFESTS/trap.yaml"
# Poll every 20 ms until the pod has left /pods.
seen_deleting=0 seen_running_deleting=0 gone_before_term=0 listed=0
deadline=$((SECONDS + 40))
while [ $SECONDS -lt $deadline ]; do
        p=$(pods_json | jq -c '.items[] | select(.metadata.name=="trap-testnode")')
        if [ -z "$p" ]; then
                [ -f "$KL_TMP/s/order" ] && grep -q term "$KL_TMP/s/order" || gone_before_term=1
                break
        fi
        listed=$((listed + 1))
        if [ "$(jq -r '.metadata.deletionTimestamp != null and .metadata.deletionGracePeriodSeconds == 10' <<<"$p")" = true ]; then
                seen_deleting=1
                [ "$(jq -r '.status.containerStatuses[0].state.running != null' <<<"$p")" = true ] && seen_running_deleting=1
                [ "$(jq -r '.metadata.uid' <<<"$p")" = "$uid" ] || not_ok "terminating pod has its uid"
        fi
        sleep 0.02
done
echo "# listed $listed times after the manifest was removed"
check "the pod stayed listed with deletionTimestamp and deletionGracePeriodSeconds" test "$seen_deleting" = 1
check "...showing its container still running during the grace period" test "$seen_running_deleting" = 1
check "the trap's 'term' line was written before the pod left /pods" test "$gone_before_term" = 0
check "the preStop hook ran before the TERM signal" test "$(tr '\n' , <"$KL_TMP/s/order")" = "prestop,term,"
check "the pod has left /pods" bash -c "[ -z \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"trap-testnode\") | .metadata.name')\" ]"
check "no container of it is left" test -z "$($CTR containers ls -q 'labels."io.kubernetes.pod.name"==trap-testnode')"

# Replacement: a changed manifest stops the old pod while the new one waits.
rm -f "$KL_TMP/s/order"
cat >"$KL_MANIFESTS/trap.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: trap}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 10
  volumes: [{name: s, hostPath: {path: $KL_TMP/s, type: Directory}}]
  containers:
  - name: c
    image: $BB
    command: [sh, -c, "trap 'sleep 1; echo term >> /s/order; exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{name: s, mountPath: /s}]
YAML
wait_for 40 "version 1 Running" pod_is trap-testnode '.status.containerStatuses[0].ready' true
uid1=$(pod_field trap-testnode .metadata.uid)
sed -i 's/while true; do sleep 1; done/echo v2 >> \/s\/order; while true; do sleep 1; done/' "$KL_MANIFESTS/trap.yaml"
both=0
for _ in $(seq 1 400); do
        uids=$(pods_jq '[.items[] | select(.metadata.name=="trap-testnode") | .metadata.uid + (if .metadata.deletionTimestamp then ":old" else ":new" end)] | sort | join(",")')
        case $uids in *":new,"*":old"|*":old,"*":new") both=1; break ;; esac
        sleep 0.02
done
check "old and new versions are both listed, told apart by uid and deletionTimestamp" test "$both" = 1
check "...the old one with its uid" matches "$uids" "$uid1:old"
wait_for 40 "version 2 Running" bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '[.items[] | select(.metadata.name==\"trap-testnode\")] | length')\" = 1 ] && grep -q v2 '$KL_TMP/s/order'"
check "the old version's TERM came before the new version started" test "$(tr '\n' , <"$KL_TMP/s/order")" = "term,v2,"

check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
