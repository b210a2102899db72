/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes resource quantities ("100m", "0.5", "128Mi", "1e3", "1.5Gi"),
 * parsed the way upstream's resource.Quantity reads them:
 *
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." digits? | "." digits
 *   suffix   ::= "" | n | u | m | k | M | G | T | P | E      (decimal SI)
 *              | Ki | Mi | Gi | Ti | Pi | Ei                 (binary SI)
 *              | (e|E) [+-]? digits                          (decimal exponent)
 *
 * Values are converted exactly (no floating point) and rounded up to the
 * requested unit, as upstream's MilliValue()/Value() do. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Longest quantity text accepted (upstream has no limit; 128 characters is far
 * beyond any meaningful value and keeps hostile input cheap). */
#define KL_QUANTITY_MAX_LEN 128

/* Parse s and return ceil(value * 10^scale) in *ret, e.g. scale 3 for
 * millicores, 0 for bytes. Errors: -EINVAL bad syntax, -EDOM negative value
 * (but "-0" is 0), -ERANGE result above INT64_MAX. */
int kl_quantity_parse_scaled(const char *s, int scale, int64_t *ret);

/* CPU in millicores (rounded up), e.g. "100m" -> 100, "0.5" -> 500, "1" -> 1000. */
int kl_quantity_parse_milli(const char *s, int64_t *ret);
/* Whole units (bytes for memory), rounded up: "128Mi" -> 134217728, "1k" -> 1000. */
int kl_quantity_parse_value(const char *s, int64_t *ret);

/* Format bytes or millicores compactly for messages ("128Mi", "500m", "2"). */
void kl_quantity_format_bytes(int64_t v, char *buf, size_t n);
void kl_quantity_format_milli(int64_t v, char *buf, size_t n);
