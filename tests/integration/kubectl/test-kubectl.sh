#!/bin/bash
# The stock kubectl against kubelet-lite's API facade: get (table, wide, json,
# yaml), describe pod and node, logs (tail, follow, previous after a crash, a
# rotated gzipped log), events after a crash loop and an invalid manifest,
# --watch seeing a pod appear, writes refused, the token required.
. "$(dirname "$0")/lib-kubectl.sh"
kl_setup
kl_facade_start <<YAML || { not_ok "kubelet-lite starts"; kl_finish; }
crashLoopBackOff: {initialContainerRestartPeriod: 1s, maxContainerRestartPeriod: 2s}
containerLogMaxSize: 2Ki
containerLogMaxFiles: 5
containerLogMonitorInterval: 1s
YAML

check "the kubeconfig is mode 0600" test "$(stat -c %a "$KUBECONFIG")" = 600
check "the kubeconfig points at https on loopback" grep -q "server: https://127.0.0.1:$KL_FACADE_PORT" "$KUBECONFIG"

manifest web <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web, tier: front}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/kubelet-lite/busybox:1.0
    command: ["sh", "-c", "echo first; i=0; while true; do echo tick \$i; i=\$((i+1)); sleep 0.3; done"]
YAML
wait_for 30 "pod web-testnode Running" pod_is web-testnode .status.phase Running

# --- get
out=$(kc get pods 2>&1)
check "get pods: header as upstream's" matches "$out" "NAME +READY +STATUS +RESTARTS +AGE"
check "get pods: the pod, 1/1 Running" matches "$out" "web-testnode +1/1 +Running +0 +[0-9]+s"
out=$(kc get pods -o wide 2>&1)
check "get pods -o wide: IP, NODE, NOMINATED NODE, READINESS GATES columns" \
        matches "$out" "IP +NODE +NOMINATED NODE +READINESS GATES"
check "get pods -o wide: node testnode" matches "$out" "web-testnode .* testnode +<none> +<none>"
check "get pod -o json: a Pod named web-testnode" \
        test "$(kc get pod web-testnode -o json | jq -r '.kind + "/" + .metadata.name')" = Pod/web-testnode
check "get pods -o json: a List holding it" \
        test "$(kc get pods -o json | jq -r '.items[0].metadata.name')" = web-testnode
out=$(kc get pod web-testnode -o yaml 2>&1)
check "get pod -o yaml" matches "$out" "kind: Pod"$'\n'".*name: web-testnode"
check "label selector: app=web matches" matches "$(kc get pods -l app=web 2>&1)" "web-testnode"
check "label selector: app=db matches nothing" matches "$(kc get pods -l app=db 2>&1)" "No resources found"
check "label selector: set-based 'tier in (front,back)'" matches "$(kc get pods -l 'tier in (front,back)' 2>&1)" "web-testnode"
check "field selector: status.phase=Running" matches "$(kc get pods --field-selector status.phase=Running 2>&1)" "web-testnode"
check "field selector: spec.nodeName!=testnode matches nothing" \
        matches "$(kc get pods --field-selector spec.nodeName!=testnode 2>&1)" "No resources found"
check "get pods -A" matches "$(kc get pods -A 2>&1)" "default +web-testnode"
check "get pod of another namespace: NotFound" matches "$(kc get pod web-testnode -n other 2>&1)" "NotFound|not found"
out=$(kc get nodes -o wide 2>&1)
check "get nodes -o wide: testnode Ready, with the runtime" matches "$out" "testnode +Ready .*containerd://"
check "get nodes: an age since kubelet-lite started" matches "$out" "testnode +Ready +<none> +[0-9]+s"

# --- describe
out=$(kc describe pod web-testnode 2>&1)
check "describe pod: name, node, container state" \
        bash -c 'grep -q "^Name: *web-testnode" <<<"$1" && grep -q "^Node: *testnode" <<<"$1" && grep -q "State: *Running" <<<"$1"' _ "$out"
check "describe pod: its events (Started)" matches "$out" "Normal +Started .*kubelet.*Started container main"
out=$(kc describe node testnode 2>&1)
check "describe node: conditions and the pod" \
        bash -c 'grep -q "KubeletReady" <<<"$1" && grep -q "web-testnode" <<<"$1"' _ "$out"
check "describe node: the node lease, held by the node and just renewed" matches "$out" "HolderIdentity: +testnode"$'\n'".*RenewTime: +[A-Z]"

# --- logs
out=$(kc logs web-testnode 2>&1)
check "logs: the container's output" matches "$out" "^first"$'\n'"tick 0"
check "logs --tail=2: two lines" test "$(kc logs web-testnode --tail=2 | wc -l)" = 2
check "logs --timestamps: RFC 3339 prefix" matches "$(kc logs web-testnode --tail=1 --timestamps)" "^20[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+) tick"
kc logs -f web-testnode >"$KL_TMP/follow.txt" 2>&1 &
follow_pid=$!
sleep 1.5
n1=$(grep -c tick "$KL_TMP/follow.txt")
sleep 1.5
n2=$(grep -c tick "$KL_TMP/follow.txt")
check "logs -f: new lines keep arriving ($n1 then $n2)" test "$n2" -gt "$n1"
kill "$follow_pid" 2>/dev/null
wait "$follow_pid" 2>/dev/null

# --- a rotated, gzipped log is read with the live one
manifest big <<YAML
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "log-lines", "100", "64"]}
YAML
wait_for 30 "pod big-testnode Running" pod_is big-testnode .status.phase Running
wait_for 20 "its log was rotated and gzipped" bash -c "ls $KL_LOGS/default_big-testnode_*/main/ | grep -q '^0\.log\.[0-9-]*\.gz$'"
out=$(kc logs big-testnode)
check "logs: all 100 lines, the rotated .gz included ($(grep -c x <<<"$out") seen)" test "$(grep -c '^[0-9]* x' <<<"$out")" = 100
check "logs: in order (line 1 first, 100 last)" bash -c '[ "$(grep "^[0-9]* x" <<<"$1" | head -1 | cut -d" " -f1)/$(tail -1 <<<"$1" | cut -d" " -f1)" = 1/100 ]' _ "$out"
check "logs --tail=3 across files: 98..100" test "$(kc logs big-testnode --tail=3 | cut -d' ' -f1 | tr '\n' ,)" = "98,99,100,"
check "logs --limit-bytes=10: 10 bytes" test "$(kc logs big-testnode --limit-bytes=10 | wc -c)" = 10

# --- a crash loop: previous logs and events
manifest crash <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "crash-after", "1"]}
YAML
wait_for 40 "pod crash-testnode restarted at least twice" \
        bash -c "[ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq '.items[] | select(.metadata.name==\"crash-testnode\") | .status.containerStatuses[0].restartCount')\" -ge 2 ]"
check "logs --previous: the crashed instance's output" matches "$(kc logs crash-testnode --previous 2>&1)" "kltest: crash-after"
check "logs --previous of a container that never restarted: an error" \
        bash -c '! "$0" --request-timeout=10s logs web-testnode --previous >/dev/null 2>&1' "$KUBECTL"
manifest broken <<YAML
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers: [{name: c, image: x}]
YAML
wait_for 20 "get events: BackOff for the crash loop" bash -c "'$KUBECTL' get events 2>&1 | grep -q 'BackOff .*pod/crash-testnode'"
wait_for 20 "get events -A: InvalidManifest for the bad manifest" bash -c "'$KUBECTL' get events -A 2>&1 | grep -q InvalidManifest"
out=$(kc get events -o wide 2>&1)
check "get events -o wide: SUBOBJECT, SOURCE, COUNT columns" matches "$out" "SUBOBJECT +SOURCE .*COUNT"
check "describe pod crash: BackOff event" matches "$(kc describe pod crash-testnode 2>&1)" "Warning +BackOff"

# --- watch
kc get pods --watch >"$KL_TMP/watch.txt" 2>&1 &
watch_pid=$!
sleep 2
manifest late <<YAML
apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "sleep"]}
YAML
wait_for 30 "get pods --watch: the new pod shows up" grep -q "^late-testnode" "$KL_TMP/watch.txt"
wait_for 30 "get pods --watch: and becomes Running" grep -q "^late-testnode .*Running" "$KL_TMP/watch.txt"
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
rv=$(api /api/v1/pods | jq -r .metadata.resourceVersion)
timeout 20 curl -sk -N -H "Authorization: Bearer $KL_TOKEN" "$KL_FACADE/api/v1/pods?watch=true&resourceVersion=$rv" >"$KL_TMP/raw-watch.txt" 2>&1 &
sleep 1
rm -f "$KL_MANIFESTS/late.yaml"
wait_for 30 "watch from a resourceVersion: DELETED when the pod is gone" \
        bash -c "jq -r '.type + \" \" + .object.metadata.name' '$KL_TMP/raw-watch.txt' 2>/dev/null | grep -q 'DELETED late-testnode'"
check "watch from the current resourceVersion: no replay of unchanged pods" \
        bash -c "! jq -r '.type + \" \" + .object.metadata.name' '$KL_TMP/raw-watch.txt' | grep -q web-testnode"
check "watch=true over the raw API: ADDED events as JSON lines" \
        bash -c "timeout 2 curl -sk -N -H 'Authorization: Bearer $KL_TOKEN' '$KL_FACADE/api/v1/namespaces/default/pods?watch=true' | head -1 | jq -e '.type == \"ADDED\" and .object.kind == \"Pod\"' >/dev/null"

# --- the built-in client, for devices without kubectl
KL=$KL_BIN
out=$("$KL" get pods -o wide 2>&1)
check "kubelet-lite get pods -o wide: upstream's columns" matches "$out" "NAME +READY +STATUS +RESTARTS +AGE +IP +NODE"
check "kubelet-lite get pods: web-testnode Running" matches "$out" "web-testnode +1/1 +Running"
check "kubelet-lite get pods -o json" test "$("$KL" get pods -o json | jq -r '.items | map(.metadata.name) | index("web-testnode") != null')" = true
check "kubelet-lite get pod -o yaml" matches "$("$KL" get pod web-testnode -o yaml 2>&1)" "^kind: \"Pod\"|^kind: Pod"
out=$("$KL" describe pod crash-testnode 2>&1)
check "kubelet-lite describe pod: state, restarts and events" \
        bash -c 'grep -q "^Name: *crash-testnode" <<<"$1" && grep -q "Restart Count: *[1-9]" <<<"$1" && grep -q "BackOff" <<<"$1"' _ "$out"
check "kubelet-lite logs --tail 2" test "$("$KL" logs web-testnode --tail 2 | wc -l)" = 2
check "kubelet-lite logs --previous" matches "$("$KL" logs crash-testnode --previous 2>&1)" "kltest: crash-after"
check "kubelet-lite logs -c for a container the pod lacks: an error, exit 1" \
        bash -c '! "$0" logs web-testnode -c nope >/dev/null 2>&1' "$KL"
"$KL" logs -f web-testnode >"$KL_TMP/cli-follow.txt" 2>&1 &
cli_pid=$!
sleep 1.5
n1=$(grep -c tick "$KL_TMP/cli-follow.txt")
sleep 1.5
check "kubelet-lite logs -f follows" test "$(grep -c tick "$KL_TMP/cli-follow.txt")" -gt "$n1"
kill "$cli_pid" 2>/dev/null
wait "$cli_pid" 2>/dev/null
check "kubelet-lite events: the BackOff" matches "$("$KL" events 2>&1)" "BackOff +pod/crash-testnode"
check "kubelet-lite with a wrong kubeconfig: refused" \
        bash -c 'sed "s/token: .*/token: nope/" "$1" >"$2" && ! "$0" get pods --kubeconfig "$2" >/dev/null 2>&1' "$KL" "$KUBECONFIG" "$KL_TMP/bad-kubeconfig"

# --- writes and authentication
out=$(kc delete pod web-testnode 2>&1)
check "delete: refused with 405 and a pointer to the manifests" matches "$out" "MethodNotAllowed.*manifests"
check "create (POST): 405" test "$(api /api/v1/namespaces/default/pods -o /dev/null -w '%{http_code}' -X POST -d '{}')" = 405
check "no token: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' "$KL_FACADE/api/v1/pods")" = 401
check "a wrong token: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x' "$KL_FACADE/api/v1/pods")" = 401
check "a wrong token of the same length: 401" \
        test "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KL_TOKEN//?/0}" "$KL_FACADE/api/v1/pods")" = 401
check "logs without a token: 401" \
        test "$(curl -sk -o /dev/null -w '%{http_code}' "$KL_FACADE/api/v1/namespaces/default/pods/web-testnode/log")" = 401
check "kubectl without the kubeconfig's token: refused" \
        bash -c '! KUBECONFIG=/dev/null "$0" --server "$1" --insecure-skip-tls-verify get pods >/dev/null 2>&1' "$KUBECTL" "$KL_FACADE"
check "plain http is not served" bash -c "! curl -s --max-time 3 http://127.0.0.1:$KL_FACADE_PORT/version >/dev/null"
check "the certificate verifies against the kubeconfig's CA" bash -c \
        "awk '/certificate-authority-data/{print \$2}' '$KUBECONFIG' | base64 -d >'$KL_TMP/ca.pem' && curl -sf --cacert '$KL_TMP/ca.pem' '$KL_FACADE/version' >/dev/null"
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
