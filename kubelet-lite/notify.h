/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
#pragma once

#include <stdint.h>

/* Send state (e.g. "READY=1") to $NOTIFY_SOCKET, a path or "@abstract".
 * Returns 1 when sent, 0 when NOTIFY_SOCKET is unset, -EINVAL for an address
 * that is neither, -EAGAIN when the receiver's queue is full (never blocks). */
int kl_notify(const char *state);
/* $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours, else 0 (also 0 for
 * values that are not plain decimal numbers). */
uint64_t kl_notify_watchdog_usec(void);
