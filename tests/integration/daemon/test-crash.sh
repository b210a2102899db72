#!/bin/bash
# Crash safety: kubelet-lite SIGKILLed at several points of a pod's start and
# restarted adopts what exists and duplicates or restarts nothing; containerd
# restarted under kubelet-lite is reconnected to and nothing is lost.
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup

pod() { # name
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - {name: a, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "sleep"]}
  - {name: b, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "sleep"]}
YAML
}

count() { # pod-name [container-name]: containers in containerd with those labels
        local f="labels.\"io.kubernetes.pod.name\"==$1"
        [ -n "${2:-}" ] && f="$f,labels.\"io.kubernetes.container.name\"==$2"
        $CTR containers ls -q "$f" | wc -l
}

running() { # pod-name container-name: of those containers, how many run
        local id n=0 tasks
        tasks=$($CTR tasks ls 2>/dev/null | awk '$3 == "RUNNING" {print $1}')
        for id in $($CTR containers ls -q "labels.\"io.kubernetes.pod.name\"==$1,labels.\"io.kubernetes.container.name\"==$2"); do
                grep -qx "$id" <<<"$tasks" && n=$((n + 1))
        done
        echo "$n"
}

# containerd 1.6 sometimes keeps a task for a container whose StartContainer
# lost its caller while reporting the container exited; it cannot be removed,
# and kubelet-lite then starts a new attempt as upstream would (one restart,
# the old container left to GC) and says so in its log.
runtime_kept_task() { # pod-name
        grep -q "pod '$1': container '[ab]': the runtime keeps a task for the interrupted start" "$KL_TMP/kubelet-lite.log"
}

# Kill kubelet-lite at increasing delays after the manifest lands, so the kill
# falls before, during and after RunPodSandbox, CreateContainer and StartContainer.
for delay in 0.05 0.12 0.2 0.25 0.3 0.35 0.45 0.7; do
        name=k${delay#0.}
        kl_start || { not_ok "kubelet-lite starts"; break; }
        pod "$name" >"$KL_TMP/p.yaml" && mv "$KL_TMP/p.yaml" "$KL_MANIFESTS/$name.yaml"
        sleep "$delay"
        kl_stop KILL
        kl_start || { not_ok "kubelet-lite restarts after SIGKILL"; break; }
        wait_for 30 "killed after ${delay}s: pod $name-testnode Running after restart" \
                bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r '.items[] | select(.metadata.name==\"$name-testnode\") | [.status.containerStatuses[].state.running != null] | all')\" = true ]"
        sleep 1.5 # one more relist: anything duplicated would show now
        check "killed after ${delay}s: exactly one running container a, one running container b" \
                test "$(running "$name-testnode" a)/$(running "$name-testnode" b)" = 1/1
        if runtime_kept_task "$name-testnode"; then
                echo "# killed after ${delay}s: containerd kept a task of the interrupted start; one restart expected"
                check "killed after ${delay}s: one restart, for the start the runtime would not let go" \
                        pod_is "$name-testnode" '[.status.containerStatuses[].restartCount] | add' 1
                check "killed after ${delay}s: one sandbox, the old container kept for GC" \
                        test "$(count "$name-testnode")" -eq 4
        else
                check "killed after ${delay}s: exactly one container a, one container b" \
                        test "$(count "$name-testnode" a)/$(count "$name-testnode" b)" = 1/1
                check "killed after ${delay}s: restartCount 0 for both" \
                        pod_is "$name-testnode" '[.status.containerStatuses[].restartCount] | add' 0
                check "killed after ${delay}s: one sandbox" test "$(count "$name-testnode")" -eq 3
        fi
        kl_stop TERM
done

# containerd restarts under a running kubelet-lite
kl_start || not_ok "kubelet-lite starts"
ids_before=$(pods_jq '[.items[].status.containerStatuses[].containerID] | sort | join(" ")')
kl_containerd_restart
wait_for 30 "after a containerd restart every pod is Running again" \
        bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '[.items[] | select(.status.phase != \"Running\")] | length')\" = 0 ]"
sleep 2
ids_after=$(pods_jq '[.items[].status.containerStatuses[].containerID] | sort | join(" ")')
check "the same containers (nothing restarted or lost)" test "$ids_before" = "$ids_after"
pod late >"$KL_MANIFESTS/late.yaml"
wait_for 30 "a manifest added after the containerd restart starts" pod_is late-testnode .status.phase Running
check "kubelet-lite survived the runtime restart" kill -0 "$KL_PID"

# containerd down for a while: kubelet-lite keeps serving, reports, reconnects
kill "$KL_CONTAINERD_PID"; wait "$KL_CONTAINERD_PID" 2>/dev/null
sleep 3
check "/healthz still answers while containerd is down" test "$(curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz")" = ok
rm -f "$KL_CONTAINERD_DIR/containerd.sock"
containerd --config "$KL_CONTAINERD_DIR/config.toml" >>"$KL_CONTAINERD_DIR/containerd.log" 2>&1 &
KL_CONTAINERD_PID=$!
echo "$KL_CONTAINERD_PID" >"$KL_CONTAINERD_DIR/containerd.pid" # kl_containerd_stop reads it
wait_for 30 "reconnects after containerd comes back; late pod still Running" pod_is late-testnode .status.phase Running
check "its container was not restarted" pod_is late-testnode '[.status.containerStatuses[].restartCount] | add' 0
kl_finish
