/* SPDX-License-Identifier: Apache-2.0 */
/* Strict UTF-8 decoding, shared by the JSON writer (lib/strbuf), the
 * manifest reader (manifests/yaml) and the device checkpoint's Go quoting
 * (cm/devicechecksum). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the valid UTF-8 sequence at s[0..n), its code point in
 * *ret_cp (may be NULL); 0 when it is not one: truncated, overlong, a
 * surrogate, above U+10FFFF, or n is 0. */
size_t kl_utf8_decode(const char *s, size_t n, uint32_t *ret_cp);
