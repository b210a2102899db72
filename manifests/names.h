/* SPDX-License-Identifier: Apache-2.0 */
/* Syntax checks for names, following upstream's apimachinery validation.
 * Each returns NULL when valid, else a static message suitable after
 * "FILE:LINE:COL: path: ". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KL_DNS1123_LABEL_MAX 63
#define KL_DNS1123_SUBDOMAIN_MAX 253

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters */
const char *kl_check_dns1123_label(const char *s);
/* labels joined by '.', at most 253 characters */
const char *kl_check_dns1123_subdomain(const char *s);
/* IANA_SVC_NAME: at most 15 of [-a-z0-9], a letter, no "--", no leading/trailing '-' */
const char *kl_check_port_name(const char *s);
/* label and annotation keys: [prefix/]name, prefix a DNS subdomain, name at most
 * 63 of [A-Za-z0-9_.-] starting and ending alphanumeric */
const char *kl_check_qualified_name(const char *s);
/* An extended resource name as upstream's IsExtendedResourceName
 * (pkg/apis/core/helper): domain-qualified ("example.com/dongle"), not a
 * native resource (no "kubernetes.io/" in it), not starting with
 * "requests.", and "requests." + name a qualified name. */
bool kl_is_extended_resource_name(const char *s);
/* label values: empty or at most 63 characters like a qualified name's name part */
const char *kl_check_label_value(const char *s);
/* environment variable names: printable ASCII except '=' (upstream's relaxed rule) */
const char *kl_check_env_name(const char *s);
/* HTTP header field name (RFC 7230 token) */
const char *kl_check_http_header_name(const char *s);
/* sysctl name like "net.ipv4.ip_forward" or "net/ipv4/ip_forward" */
const char *kl_check_sysctl_name(const char *s);
/* Linux capability name without "CAP_" ("NET_ADMIN"), or "ALL" */
bool kl_capability_known(const char *s);

bool kl_is_ip_address(const char *s);

/* A subscripted downward API field path, "metadata.labels['app']": the part
 * before "['" into prefix, the key (not NUL-terminated) in ret_key/ret_key_len.
 * false when path has no subscript (upstream's SplitMaybeSubscriptedPath). */
bool kl_field_path_split(const char *path, char *prefix, size_t prefix_size, const char **ret_key, size_t *ret_key_len);
/* Absolute path without ".." components and without NUL. */
bool kl_path_is_absolute_clean(const char *s);
/* True if any '/'-separated component of s equals "..". */
bool kl_path_has_dotdot(const char *s);
