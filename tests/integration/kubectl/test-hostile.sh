#!/bin/bash
# Hostile input on the API facade's port, as on the read-only port: oversized
# heads and targets, slowloris, a flood of idle connections, bad tokens, path
# traversal in names, a log request naming another pod's container, plain
# text on the TLS port, and log clients that never read. The daemon keeps
# answering everyone else throughout.
. "$(dirname "$0")/lib-kubectl.sh"
kl_setup
kl_facade_start </dev/null || { not_ok "kubelet-lite starts"; kl_finish; }
for p in a b; do
        manifest $p <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $p}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c$p, image: localhost/kubelet-lite/testbox:1.0, command: ["/kltest", "log-lines", "20000", "200"]}
YAML
done
wait_for 30 "pods Running" bash -c "pod_is() { [ \"\$(curl -fs http://127.0.0.1:$KL_RO_PORT/pods | jq -r --arg n \$1 '.items[] | select(.metadata.name==\$n) | .status.phase')\" = Running ]; }; pod_is a-testnode && pod_is b-testnode"
code() { api "$@" -o /dev/null -w '%{http_code}'; }
alive() { kc get pods >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$KL_HEALTHZ_PORT/healthz" >/dev/null; }

check "an oversized header block: 431" test "$(code /api/v1/pods -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")" = 431
check "an oversized target: 414" test "$(code "/api/v1/pods?x=$(head -c 5000 /dev/zero | tr '\0' a)")" = 414
check "a malformed request line: 400" bash -c "printf 'GET  /api HTTP/1.1\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 127.0.0.1:$KL_FACADE_PORT 2>/dev/null | head -1 | grep -q ' 400 '"
check "Basic instead of Bearer: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' -u admin:admin "$KL_FACADE/api/v1/pods")" = 401
check "an empty bearer token: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ' "$KL_FACADE/api/v1/pods")" = 401
check "the token as a prefix of a longer one: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KL_TOKEN}x" "$KL_FACADE/api/v1/pods")" = 401
check "path traversal in a pod name (%2F..): 404" \
        test "$(code '/api/v1/namespaces/default/pods/..%2F..%2F..%2Fetc%2Fpasswd/log')" = 404
check "path traversal with dot segments: 404" test "$(code '/api/v1/namespaces/default/pods/%2E%2E/log')" = 404
check "a traversing container name: 400, not read" \
        test "$(code '/api/v1/namespaces/default/pods/a-testnode/log?container=..%2F..%2F..%2Fetc')" = 400
out=$(api '/api/v1/namespaces/default/pods/a-testnode/log?container=cb')
check "a log request naming another pod's container: refused" matches "$out" '"code":400.*|container cb is not valid'
check "...and nothing of b's log in the answer" bash -c '! grep -q "^[0-9]* x" <<<"$1"' _ "$out"
check "plain HTTP on the TLS port: closed, nothing served" \
        bash -c "out=\$(curl -s --max-time 5 -H 'Authorization: Bearer $KL_TOKEN' http://127.0.0.1:$KL_FACADE_PORT/api/v1/pods); rc=\$?; [ \$rc -ne 0 ] && ! grep -q items <<<\"\$out\""

# slowloris: TLS up, then a byte a second; and sockets that never say a thing
python3 - "$KL_FACADE_PORT" >"$KL_TMP/slow.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
slow = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) for _ in range(20)]
mute = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
start = time.time(); req = b"GET /api/v1/pods HTTP/1.1\r\nX-Slow: "
closed = 0
for i in range(25):
    for s in slow:
        try:
            s.send(req[i % len(req):i % len(req) + 1] or b"a")
        except Exception:
            pass
    time.sleep(1)
for s in slow:
    s.settimeout(1)
    try:
        d = s.recv(100)
        if not d or b"408" in d: closed += 1
    except Exception:
        closed += 1
print("slow closed", closed, "after", int(time.time() - start), "s", flush=True)
PY
slow_pid=$!
sleep 3
check "during slowloris and 200 mute sockets: kubectl and /healthz answer" alive
wait "$slow_pid"
check "slowloris connections were closed by the header timeout (408)" grep -q "slow closed 20" "$KL_TMP/slow.log"

# log clients that never read, following big logs
python3 - "$KL_FACADE_PORT" "$KL_TOKEN" >"$KL_TMP/stall.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
socks = []
for i in range(8):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall((f"GET /api/v1/namespaces/default/pods/a-testnode/log?follow=true HTTP/1.1\r\n"
               f"Host: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
    socks.append(s)
print(socks[0].recv(64).decode(errors="replace").splitlines()[0], flush=True)
time.sleep(40)
PY
stall_pid=$!
wait_for 10 "stalled log clients got their 200" grep -q " 200 " "$KL_TMP/stall.log"
sleep 2
check "while 8 log clients do not read: kubectl get pods and /healthz answer" alive
check "while they do not read: another client gets the whole log" test "$(kc logs a-testnode | grep -c '^[0-9]* x')" = 20000
rss=$(awk '/VmRSS/{print $2}' /proc/"$KL_PID"/status)
rss_limit=${KL_FACADE_RSS_LIMIT_KB:-120000} # sanitizer builds need more
check "daemon memory stays bounded with stalled clients (RSS ${rss} kB < ${rss_limit} kB)" test "$rss" -lt "$rss_limit"
kill "$stall_pid" 2>/dev/null
wait "$stall_pid" 2>/dev/null
check "kubelet-lite is still running" kill -0 "$KL_PID"
kl_finish
