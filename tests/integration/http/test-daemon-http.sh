#!/bin/bash
# The real kubelet-lite's HTTP endpoints under hostile clients: methods,
# malformed and oversized requests, a slowloris, a flood of parallel
# connections while /healthz/syncloop must stay fine, and every connection
# released afterwards (the daemon's fd count returns to where it was).
. "$(dirname "$0")/../../lib/lib.sh"
kl_setup

kl_start || { not_ok "kubelet-lite starts"; kl_finish; }

# raw PORT FORMAT...: send printf FORMAT as the request, print the whole response
raw() {
        local port=$1; shift
        exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
        # shellcheck disable=SC2059
        printf "$@" >&3
        timeout 20 cat <&3
        exec 3<&- 3>&-
}
status_line() { raw "$@" | head -n1 | tr -d '\r'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
nfds() { ls "/proc/$KL_PID/fd" | wc -l; }

H=$KL_HEALTHZ_PORT
R=$KL_RO_PORT
check "GET /healthz is 200 ok" test "$(curl -fs "http://127.0.0.1:$H/healthz")" = ok
check "HEAD /healthz: 200, Content-Length 2, no body" \
        bash -c "[ \"\$(curl -sI http://127.0.0.1:$H/healthz | tr -d '\r' | grep -i '^content-length:')\" = 'Content-Length: 2' ]"
check "HEAD sends no body bytes" test "$(raw "$H" 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n' | sed -n '/^\r$/,$p' | wc -c)" = 2
check "POST is 405" test "$(code -X POST -d x "http://127.0.0.1:$H/healthz")" = 405
check "PUT is 405" test "$(code -X PUT "http://127.0.0.1:$R/pods")" = 405
check "DELETE is 405" test "$(code -X DELETE "http://127.0.0.1:$R/pods")" = 405
check "405 names the allowed methods" bash -c "curl -si -X POST http://127.0.0.1:$H/healthz | tr -d '\r' | grep -qx 'Allow: GET, HEAD'"
check "unknown path is 404" test "$(code "http://127.0.0.1:$H/nope")" = 404
check "/pods is a PodList" test "$(curl -fs "http://127.0.0.1:$R/pods" | jq -r .kind)" = PodList
check "percent-encoded path is decoded (/pod%73 is /pods)" test "$(curl -fs "http://127.0.0.1:$R/pod%73" | jq -r .kind)" = PodList
check "a query does not change the path" test "$(code "http://127.0.0.1:$H/healthz?verbose=1")" = 200
check "garbage request line is 400" test "$(status_line "$H" 'GARBAGE\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "NUL byte is 400" test "$(status_line "$H" 'GET /heal\0thz HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "absolute-form target is 400" test "$(status_line "$H" 'GET http://x/healthz HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "HTTP/2.0 is 505" test "$(status_line "$H" 'GET /healthz HTTP/2.0\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported"
long=$(head -c 3000 /dev/zero | tr '\0' a)
check "3000-byte target is 414" test "$(status_line "$H" "GET /$long HTTP/1.1\r\n\r\n")" = "HTTP/1.1 414 URI Too Long"
huge=$(head -c 10000 /dev/zero | tr '\0' a)
check "10000-byte request line is 431" test "$(status_line "$H" "GET /$huge HTTP/1.1\r\n\r\n")" = "HTTP/1.1 431 Request Header Fields Too Large"

# A slowloris: one byte a second. The header timeout (10 s) cuts it off with a 408.
slow() {
        local msg='GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n\r\n' i start=$SECONDS
        exec 4<>"/dev/tcp/127.0.0.1/$H" || return 1
        for ((i = 0; i < ${#msg}; i++)); do
                printf '%s' "${msg:i:1}" >&4 2>/dev/null || break
                if read -r -t 1 line <&4; then
                        echo "$((SECONDS - start)) $line"
                        exec 4<&- 4>&-
                        return 0
                fi
        done
        echo "$((SECONDS - start)) no-answer"
        exec 4<&- 4>&-
}
fds_before=$(nfds)
out=$(slow)
echo "# slowloris: $out"
check "slowloris gets 408 Request Timeout" matches "$out" "408 Request Timeout"
check "slowloris is cut off after about 10 s" matches "$out" "^(9|10|11|12) "

# A flood: 600 connections, 200 at a time, while the sync loop must keep going.
flood_log=$KL_TMP/flood.txt
seq 600 | xargs -P 200 -I{} curl -s -o /dev/null -m 20 -w '%{http_code}\n' "http://127.0.0.1:$R/pods" >"$flood_log" &
flood=$!
healthy=0 probes=0
while kill -0 "$flood" 2>/dev/null; do
        probes=$((probes + 1))
        c=$(code -m 5 "http://127.0.0.1:$H/healthz/syncloop")
        if [ "$c" = 200 ] || [ "$c" = 503 ]; then healthy=$((healthy + 1)); else echo "# probe $probes: $c"; fi
        sleep 0.2
done
wait "$flood"
echo "# flood: $(sort "$flood_log" | uniq -c | tr '\n' ' ')"
check "every flood request was answered 200 or 503" test "$(grep -cvE '^(200|503)$' "$flood_log")" = 0
check "the healthz port answered all $probes probes during the flood" test "$healthy" = "$probes"
check "/healthz/syncloop is 200 after the flood" test "$(code "http://127.0.0.1:$H/healthz/syncloop")" = 200
wait_for 10 "all connections released (fd count back to $fds_before)" bash -c "[ \$(ls /proc/$KL_PID/fd | wc -l) -le $fds_before ]"
check "kubelet-lite is still running" kill -0 "$KL_PID"

kl_finish
