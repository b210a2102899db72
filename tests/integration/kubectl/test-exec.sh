#!/bin/bash
# kubectl exec, attach and port-forward through the API facade: the upgraded
# connection (SPDY, or WebSocket where kubectl tries it first) is proxied to
# containerd's streaming server. exec -it with stdin and a TTY, exit codes
# propagated, port-forward to a pod's port, the daemon unaffected by a client
# that stops reading.
. "$(dirname "$0")/lib-kubectl.sh"
kl_setup
kl_facade_start </dev/null || { not_ok "kubelet-lite starts"; kl_finish; }
HTTP_PORT=$(free_port)
manifest sh <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sh}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/kubelet-lite/busybox:1.0, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}
  - {name: web, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "http-ok", "$HTTP_PORT"]}
YAML
wait_for 30 "pod sh-testnode Running" pod_is sh-testnode .status.phase Running

check "exec: a command's output" test "$(kc exec sh-testnode -c main -- echo hello 2>&1)" = hello
kc exec sh-testnode -c main -- sh -c 'exit 7' >/dev/null 2>&1
check "exec: the exit code (7) comes back" test $? = 7
check "exec -i: stdin reaches the command" test "$(printf 'one\ntwo\n' | kc exec -i sh-testnode -c main -- wc -l 2>&1 | tr -d ' ')" = 2
# typed once kubectl has the terminal in raw mode, as a person would
out=$( (sleep 3; printf 'kubelet\n'; sleep 5) | timeout 30 script -qec "'$KUBECTL' exec -it sh-testnode -c main -- sh -c 'read x; echo got:\$x; tty; exit 5'" /dev/null)
rc=$?
check "exec -it: stdin read through a TTY" matches "$out" "got:kubelet"
check "exec -it: the command has a terminal" matches "$out" "/dev/pts/[0-9]+"
check "exec -it: exit code 5 propagated" test "$rc" = 5
check "exec into a container that does not exist: an error" \
        bash -c '! "$0" exec sh-testnode -c nope -- true >/dev/null 2>&1' "$KUBECTL"
check "exec into a pod that does not exist: NotFound" matches "$(kc exec nope -- true 2>&1)" "NotFound|not found"

# attach: the running main process's output
manifest ticker <<YAML
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/kubelet-lite/busybox:1.0, command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick \$i; i=\$((i+1)); sleep 0.3; done"]}
YAML
wait_for 30 "pod ticker-testnode Running" pod_is ticker-testnode .status.phase Running
timeout 4 "$KUBECTL" attach ticker-testnode -c main >"$KL_TMP/attach.txt" 2>&1
check "attach: the process's live output arrives" grep -q "^tick [0-9]" "$KL_TMP/attach.txt"

# port-forward
LOCAL=$(free_port)
kc port-forward pod/sh-testnode "$LOCAL:$HTTP_PORT" >"$KL_TMP/pf.log" 2>&1 &
pf_pid=$!
wait_for 15 "port-forward: listening" grep -q "Forwarding from 127.0.0.1:$LOCAL" "$KL_TMP/pf.log"
check "port-forward: the pod's HTTP server answers through it" test "$(curl -s --max-time 10 "http://127.0.0.1:$LOCAL/")" = ok
check "port-forward: a second request on a new connection" test "$(curl -s --max-time 10 "http://127.0.0.1:$LOCAL/healthz")" = ok
kill "$pf_pid" 2>/dev/null
wait "$pf_pid" 2>/dev/null

# A client that floods an exec session and never reads its output: the
# daemon keeps serving everything else.
python3 - "$KL_FACADE_PORT" "$KL_TOKEN" >"$KL_TMP/stall.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
s.sendall((f"POST /api/v1/namespaces/default/pods/sh-testnode/exec?command=yes&container=main&stdout=true HTTP/1.1\r\n"
           f"Host: x\r\nAuthorization: Bearer {token}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
           f"X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n").encode())
print(s.recv(200).decode(errors="replace").splitlines()[0], flush=True)
time.sleep(20)  # never reads again
PY
stall_pid=$!
wait_for 10 "a stalled exec client got its upgrade" grep -q "101" "$KL_TMP/stall.log"
sleep 1
check "meanwhile get pods answers" matches "$(kc get pods 2>&1)" "sh-testnode"
check "meanwhile another exec works" test "$(kc exec sh-testnode -c main -- echo still 2>&1)" = still
check "meanwhile /healthz answers" curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz"
kill "$stall_pid" 2>/dev/null
wait "$stall_pid" 2>/dev/null
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
