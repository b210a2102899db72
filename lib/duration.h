/* SPDX-License-Identifier: Apache-2.0 */
/* Durations printed as Go's time.Duration.String() prints them, since
 * upstream's messages (CrashLoopBackOff's "back-off 5m0s ...", the Pulled
 * event) carry Go durations and users match on them: "0s", "999µs", "1.5ms",
 * "10s", "1m20s", "5m0s", "1h0m0s". Microsecond precision. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Writes at most n bytes (NUL included); 32 bytes are always enough. */
void kl_format_duration(uint64_t usec, char *buf, size_t n);
