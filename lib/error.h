/* SPDX-License-Identifier: Apache-2.0 */
/* Error with context, in a fixed buffer so the error path never allocates.
 * Each layer prefixes its own context:
 *   pod 'web': container 'nginx': CreateContainer: rpc error NOT_FOUND: ... */
#pragma once

#include <stdarg.h>

#include "macros.h"

#define KL_ERROR_MSG_MAX 512

struct kl_error {
        int err; /* positive errno, 0 when unset */
        char msg[KL_ERROR_MSG_MAX];
};

/* Set the error (errno r may be negative or positive) and return -|r|.
 * reterr may be NULL. */
int kl_error_set(struct kl_error *reterr, int r, const char *fmt, ...) _printf_(3, 4);
/* Prefix an existing message with more context ("ctx: old"), return -err. */
int kl_error_prefix(struct kl_error *reterr, const char *fmt, ...) _printf_(2, 3);
void kl_error_clear(struct kl_error *e);
/* The message, or strerror() when no message was set. */
const char *kl_error_str(const struct kl_error *e);
