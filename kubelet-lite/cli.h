/* SPDX-License-Identifier: Apache-2.0 */
/* A small built-in client of the API facade, for devices without kubectl:
 *   kubelet-lite get pods [-o wide|json|yaml]
 *   kubelet-lite get events | kubelet-lite events
 *   kubelet-lite describe pod NAME
 *   kubelet-lite logs POD [-c C] [-f] [--previous] [--tail N]
 * It reads the server and token from the kubeconfig the daemon writes
 * ($KUBECONFIG, else --kubeconfig, else /var/lib/kubelet-lite/kubeconfig). */
#pragma once

#include <stdbool.h>

bool kl_cli_is_command(const char *arg);
int kl_cli_main(int argc, char **argv);
