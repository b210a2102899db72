/* SPDX-License-Identifier: Apache-2.0 */
/* `kubelet-lite validate [--strict] [--node-name N] FILE|DIR...`: check static
 * pod manifests exactly as the daemon reads them, without a container runtime. */
#pragma once

/* argv[0] is "validate". Prints each pod that would run (stdout) and each
 * problem as FILE:LINE:COL lines (stderr). Returns the exit status: 0 when
 * everything is valid, 1 otherwise. */
int kl_validate_main(int argc, char **argv);
