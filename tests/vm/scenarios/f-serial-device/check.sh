# (f) A real device through the device plugin API: the board's second UART
# (qemu -serial file:, /dev/ttyS1 in the guest, /mnt/host/ttyS1.out on the
# host side) is advertised by kubelet-lite-device-plugin as
# kubelet-lite.io/serial; a pod asking for it gets the device node, and what
# it writes comes out of the virtual serial line. A second pod asking for the
# one device is rejected (OutOfkubelet-lite.io/serial) and admitted once the
# first pod is gone.
. "$BOARD_LIB"
: "${SCENARIO_DIR:=/mnt/host/files}"
OUT=/mnt/host/ttyS1.out

node_res() { # capacity|allocatable
        timeout 10 wget -qO- http://127.0.0.1:10255/node 2>/dev/null |
                jq -r ".status.$1[\"kubelet-lite.io/serial\"] // \"none\""
}
wait_res() { # capacity|allocatable VALUE SECONDS
        local end=$(($(date +%s) + $3))
        while [ "$(node_res "$1")" != "$2" ]; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 1
        done
}
wait_out() { # TEXT SECONDS: TEXT came out of the serial line
        local end=$(($(date +%s) + $2))
        while ! grep -q "$1" "$OUT" 2>/dev/null; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 1
        done
}

board_check_eq "the board has a second UART" yes "$([ -c /dev/ttyS1 ] && echo yes)"
board_check_eq "the device plugin is in the initramfs" yes "$([ -x /usr/bin/kubelet-lite-device-plugin ] && echo yes)"
kubelet-lite-device-plugin --device kubelet-lite.io/serial=/dev/ttyS1 \
        --dir "$BOARD_KL_ROOT/device-plugins" >/tmp/device-plugin.log 2>&1 &
plugin=$!
board_check "the plugin registers: capacity 1" wait_res capacity 1 60
board_check_eq "allocatable 1" 1 "$(node_res allocatable)"

board_check "serial-writer runs" board_wait_pod serial-writer '.status.phase == "Running"' 90
board_check "what it writes to /dev/ttyS1 comes out of the virtual serial line" \
        wait_out hello-from-serial-writer 30

board_manifest_add "$SCENARIO_DIR/extra/serial-second.yaml"
board_check "serial-second (the one device is taken) is rejected" \
        board_wait_pod serial-second '.status.phase == "Failed"' 30
board_check_eq "serial-second: status.reason" OutOfkubelet-lite.io/serial "$(board_pod_get serial-second '.status.reason')"

board_manifest_rm serial-writer.yaml
board_check "serial-writer goes away" board_wait_gone serial-writer 60
board_check "serial-second is admitted and runs" board_wait_pod serial-second '.status.phase == "Running"' 90
board_check "it writes to the serial line too" wait_out hello-from-serial-second 30

kill "$plugin" 2>/dev/null
board_manifests_clear
board_check "serial-second goes away" board_wait_gone serial-second 60
[ "${BOARD_FAIL:-0}" -gt 0 ] && { echo "-- device plugin log:"; tail -n 20 /tmp/device-plugin.log; }
board_summary
