#!/bin/sh
# Stop, start or restart the private containerd of tests/lib/containerd.sh
# from a child process (the C reconnect test calls this through system()).
#   containerd-ctl.sh stop|start|restart
# Needs KL_TOP and KL_CONTAINERD_DIR; the current pid is always in
# $KL_CONTAINERD_DIR/containerd.pid, which kl_containerd_restart rewrites.
set -u
. "$KL_TOP/tests/lib/containerd.sh"
pidfile=$KL_CONTAINERD_DIR/containerd.pid

# Wait for the old one to be gone: while it shuts down it still holds its
# database lock, and its listener removes the socket path on close.
stop_and_wait() {
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null
        i=0
        while kill -0 "$pid" 2>/dev/null; do
                i=$((i + 1))
                [ $i -eq 200 ] && kill -9 "$pid" 2>/dev/null
                sleep 0.05
        done
}

start() {
        # Nothing left to kill: kl_containerd_restart's kill gets no pid.
        KL_CONTAINERD_PID=
        kl_containerd_restart
}

case ${1:-} in
stop) stop_and_wait ;;
start) start ;;
restart) stop_and_wait && start ;;
*) echo "usage: $0 stop|start|restart" >&2; exit 2 ;;
esac
