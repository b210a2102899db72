/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
#pragma once

#include <stdint.h>

/* Send state (e.g. "READY=1"); a no-op when NOTIFY_SOCKET is unset. */
int kl_notify(const char *state);
/* $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours, else 0. */
uint64_t kl_notify_watchdog_usec(void);
