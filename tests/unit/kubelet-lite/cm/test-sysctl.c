/* SPDX-License-Identifier: Apache-2.0 */
/* Sysctl admission against upstream's allowlist (pkg/kubelet/sysctl). */
#include "kubelet-lite/cm/sysctl.h"

#include <string.h>

#include "tests/lib/tests.h"

static struct kl_pod pod_with(struct kl_kv *kv, size_t n, bool host_net, bool host_ipc) {
        struct kl_pod p;
        memset(&p, 0, sizeof(p));
        p.security_context.sysctls = kv;
        p.security_context.n_sysctls = n;
        p.host_network = host_net;
        p.host_ipc = host_ipc;
        return p;
}

TEST(safe_set_is_allowed) {
        struct kl_kv kv[] = {{(char *) "net.ipv4.ip_unprivileged_port_start", (char *) "80"},
                             {(char *) "kernel.shm_rmid_forced", (char *) "1"},
                             {(char *) "net/ipv4/tcp_syncookies", (char *) "1"}};
        struct kl_pod p = pod_with(kv, 3, false, false);
        char msg[256];
        ASSERT_TRUE(kl_sysctl_admit(&p, NULL, msg, sizeof(msg)));
}

TEST(unsafe_is_forbidden_unless_allowed) {
        struct kl_kv kv[] = {{(char *) "net.core.somaxconn", (char *) "1024"}};
        struct kl_pod p = pod_with(kv, 1, false, false);
        char msg[256];
        ASSERT_FALSE(kl_sysctl_admit(&p, NULL, msg, sizeof(msg)));
        ASSERT_STREQ(msg, "forbidden sysctl: \"net.core.somaxconn\" not allowlisted");
        char *exact[] = {(char *) "net.core.somaxconn", NULL};
        ASSERT_TRUE(kl_sysctl_admit(&p, exact, msg, sizeof(msg)));
        char *prefix[] = {(char *) "net.core.*", NULL};
        ASSERT_TRUE(kl_sysctl_admit(&p, prefix, msg, sizeof(msg)));
        char *other[] = {(char *) "net.ipv6.*", NULL};
        ASSERT_FALSE(kl_sysctl_admit(&p, other, msg, sizeof(msg)));
}

TEST(host_namespaces_forbid_their_sysctls) {
        struct kl_kv net[] = {{(char *) "net.ipv4.ip_local_port_range", (char *) "1024 65000"}};
        struct kl_kv ipc[] = {{(char *) "kernel.msgmax", (char *) "65536"}};
        char *unsafe[] = {(char *) "kernel.msg*", NULL};
        char msg[256];
        struct kl_pod p = pod_with(net, 1, true, false);
        ASSERT_FALSE(kl_sysctl_admit(&p, NULL, msg, sizeof(msg)));
        ASSERT_STREQ(msg, "forbidden sysctl: \"net.ipv4.ip_local_port_range\" not allowed with host net enabled");
        p = pod_with(ipc, 1, false, true);
        ASSERT_FALSE(kl_sysctl_admit(&p, unsafe, msg, sizeof(msg)));
        ASSERT_CONTAINS(msg, "not allowed with host ipc enabled");
        p = pod_with(ipc, 1, false, false);
        ASSERT_TRUE(kl_sysctl_admit(&p, unsafe, msg, sizeof(msg)));
}

TEST(config_refuses_non_namespaced_patterns) {
        struct kl_error err = {};
        char *ok[] = {(char *) "kernel.msg*", (char *) "net.core.somaxconn", (char *) "fs.mqueue.*", NULL};
        char *bad[] = {(char *) "kernel.panic", NULL};
        ASSERT_OK(kl_sysctl_check_config(ok, &err));
        ASSERT_OK(kl_sysctl_check_config(NULL, &err));
        ASSERT_ERR(kl_sysctl_check_config(bad, &err), EINVAL);
        ASSERT_CONTAINS(kl_error_str(&err), "kernel.panic");
}

TEST_MAIN()
