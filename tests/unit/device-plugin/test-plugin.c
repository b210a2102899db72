/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite-device-plugin's logic: --device parsing, glob scans with
 * health (a node gone stays, unhealthy; it comes back healthy), and the
 * ListAndWatch and Allocate replies. */
#include "device-plugin/plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/deviceplugin.pb-c.h"
#include "tests/lib/tests.h"

TEST(parse) {
        struct kl_dp_resource *r = NULL;
        struct kl_error e = {0};

        ASSERT_OK(kl_dp_resource_parse("kubelet-lite.io/serial=/dev/ttyUSB*,/dev/ttyACM*", &r, &e));
        ASSERT_STREQ(r->name, "kubelet-lite.io/serial");
        ASSERT_STREQ(r->endpoint, "kubelet-lite.io_serial.sock");
        ASSERT_EQ(r->n_globs, 2);
        ASSERT_STREQ(r->globs[1], "/dev/ttyACM*");
        kl_dp_resource_free(r);
        printf("  NAME=GLOB,GLOB: endpoint kubelet-lite.io_serial.sock, 2 globs\n");
        ASSERT_ERR(kl_dp_resource_parse("serial=/dev/tty*", &r, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "not an extended resource name");
        ASSERT_ERR(kl_dp_resource_parse("kubernetes.io/serial=/dev/tty*", &r, &e), EINVAL);
        ASSERT_ERR(kl_dp_resource_parse("example.com/x=dev/tty*", &r, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "not an absolute path");
        ASSERT_ERR(kl_dp_resource_parse("example.com/x", &r, &e), EINVAL);
        ASSERT_ERR(kl_dp_resource_parse("example.com/x=", &r, &e), EINVAL);
        printf("  no domain, kubernetes.io, relative glob, no '=', no glob: -EINVAL\n");
}

static void touch(const char *dir, const char *name) {
        char p[256];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        f = fopen(p, "we");
        ASSERT_NOT_NULL(f);
        fclose(f);
}

TEST(scan_and_replies) {
        char dir[] = "/tmp/kl-dp-unit.XXXXXX", arg[256], p[256];
        struct kl_dp_resource *r = NULL;
        struct kl_error e = {0};
        uint8_t *out = NULL;
        size_t len;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(arg, sizeof(arg), "example.com/tty=%s/ttyKL*", dir);
        ASSERT_OK(kl_dp_resource_parse(arg, &r, &e));
        ASSERT_EQ(kl_dp_resource_scan(r), 0);
        ASSERT_EQ(r->n_devices, 0);
        touch(dir, "ttyKL1");
        touch(dir, "ttyKL0");
        touch(dir, "other");
        ASSERT_EQ(kl_dp_resource_scan(r), 1);
        ASSERT_EQ(r->n_devices, 2);
        ASSERT_STREQ(r->devices[0].id, "ttyKL0");
        ASSERT_TRUE(r->devices[0].healthy && r->devices[1].healthy);
        ASSERT_EQ(kl_dp_resource_scan(r), 0);
        printf("  two nodes appear: changed, IDs by basename, sorted; a rescan: unchanged\n");

        snprintf(p, sizeof(p), "%s/ttyKL1", dir);
        unlink(p);
        ASSERT_EQ(kl_dp_resource_scan(r), 1);
        ASSERT_EQ(r->n_devices, 2);
        ASSERT_FALSE(r->devices[1].healthy);
        ASSERT_EQ(kl_dp_resource_scan(r), 0);
        printf("  ttyKL1 removed: still listed, Unhealthy\n");

        ASSERT_OK(kl_dp_list_and_watch_reply(r, &out, &len));
        V1beta1__ListAndWatchResponse *law = v1beta1__list_and_watch_response__unpack(NULL, len, out);
        ASSERT_NOT_NULL(law);
        ASSERT_EQ(law->n_devices, 2);
        ASSERT_STREQ(law->devices[0]->health, "Healthy");
        ASSERT_STREQ(law->devices[1]->health, "Unhealthy");
        v1beta1__list_and_watch_response__free_unpacked(law, NULL);
        free(out);
        printf("  ListAndWatch: ttyKL0 Healthy, ttyKL1 Unhealthy\n");

        /* Allocate ttyKL0: a DeviceSpec with host path = container path, "rw" */
        V1beta1__ContainerAllocateRequest creq = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *cp = &creq;
        V1beta1__AllocateRequest req = V1BETA1__ALLOCATE_REQUEST__INIT;
        char *ids[] = {(char *) "ttyKL0"};
        uint8_t buf[256];
        creq.devices_ids = ids;
        creq.n_devices_ids = 1;
        req.container_requests = &cp;
        req.n_container_requests = 1;
        size_t n = v1beta1__allocate_request__pack(&req, buf);
        ASSERT_OK(kl_dp_allocate_reply(r, buf, n, &out, &len, &e));
        V1beta1__AllocateResponse *ar = v1beta1__allocate_response__unpack(NULL, len, out);
        ASSERT_NOT_NULL(ar);
        ASSERT_EQ(ar->n_container_responses, 1);
        ASSERT_EQ(ar->container_responses[0]->n_devices, 1);
        snprintf(p, sizeof(p), "%s/ttyKL0", dir);
        ASSERT_STREQ(ar->container_responses[0]->devices[0]->host_path, p);
        ASSERT_STREQ(ar->container_responses[0]->devices[0]->container_path, p);
        ASSERT_STREQ(ar->container_responses[0]->devices[0]->permissions, "rw");
        v1beta1__allocate_response__free_unpacked(ar, NULL);
        free(out);
        printf("  Allocate ttyKL0: DeviceSpec %s -> same path, rw\n", p);

        ids[0] = (char *) "ttyKL1";
        n = v1beta1__allocate_request__pack(&req, buf);
        ASSERT_ERR(kl_dp_allocate_reply(r, buf, n, &out, &len, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "unhealthy");
        ids[0] = (char *) "nope";
        n = v1beta1__allocate_request__pack(&req, buf);
        ASSERT_ERR(kl_dp_allocate_reply(r, buf, n, &out, &len, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "unknown device 'nope'");
        printf("  Allocate of an unhealthy or unknown device: -EINVAL (%s)\n", e.msg);

        touch(dir, "ttyKL1");
        ASSERT_EQ(kl_dp_resource_scan(r), 1);
        ASSERT_TRUE(r->devices[1].healthy);
        printf("  ttyKL1 back: Healthy again\n");
        kl_dp_resource_free(r);
        snprintf(p, sizeof(p), "rm -rf %s", dir);
        ASSERT_EQ(system(p), 0);
}

TEST_MAIN()
