/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/recorder.h"

#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

static const struct kl_event_object web = {"Pod", "default", "web-node", "u1", "spec.containers{c}"};
static const struct kl_event_object db = {"Pod", "kube-system", "db-node", "u2", NULL};

static char *render(struct kl_recorder *e, const char *ns, const char *name) {
        struct kl_json j = {};
        kl_recorder_render(e, ns, name, NULL, &j);
        kl_buf_puts(&j.buf, ""); /* NUL-terminated */
        return j.buf.data;
}

static int count_of(const char *s, const char *needle) {
        int n = 0;
        for (const char *p = s; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

TEST(repeats_fold_into_a_count) {
        struct kl_recorder *e = NULL;
        ASSERT_OK(kl_recorder_new(8, "node1", &e));
        for (int i = 0; i < 5; i++)
                kl_recorder_record(e, &web, "Warning", "BackOff", "Back-off restarting failed container %s", "c");
        kl_recorder_record(e, &web, "Normal", "Started", "Started container c");
        ASSERT_EQ(kl_recorder_count(e), 2);
        char *s = render(e, NULL, NULL);
        ASSERT_CONTAINS(s, "\"kind\":\"EventList\"");
        ASSERT_CONTAINS(s, "\"reason\":\"BackOff\",\"message\":\"Back-off restarting failed container c\"");
        ASSERT_CONTAINS(s, "\"count\":5");
        ASSERT_CONTAINS(s, "\"fieldPath\":\"spec.containers{c}\"");
        ASSERT_CONTAINS(s, "\"source\":{\"component\":\"kubelet\",\"host\":\"node1\"}");
        ASSERT_CONTAINS(s, "\"type\":\"Warning\"");
        free(s);
        kl_recorder_free(e);
}

TEST(ring_drops_the_oldest) {
        struct kl_recorder *e = NULL;
        ASSERT_OK(kl_recorder_new(4, "n", &e));
        for (int i = 0; i < 10; i++)
                kl_recorder_record(e, &web, "Normal", "Pulled", "event %d", i);
        ASSERT_EQ(kl_recorder_count(e), 4);
        char *s = render(e, NULL, NULL);
        ASSERT_EQ(count_of(s, "\"reason\":\"Pulled\""), 4);
        ASSERT_TRUE(strstr(s, "event 5") == NULL);
        ASSERT_TRUE(strstr(s, "event 6") < strstr(s, "event 9")); /* oldest first */
        free(s);
        kl_recorder_free(e);
}

TEST(filters_and_escaping) {
        struct kl_recorder *e = NULL;
        ASSERT_OK(kl_recorder_new(0, "n", &e));
        kl_recorder_record(e, &web, "Normal", "Created", "Created container c");
        kl_recorder_record(e, &db, "Warning", "Failed", "Error: \"quoted\"\nnewline");
        char *s = render(e, "kube-system", NULL);
        ASSERT_EQ(count_of(s, "\"reason\":"), 1);
        ASSERT_CONTAINS(s, "Error: \\\"quoted\\\"\\nnewline");
        free(s);
        s = render(e, NULL, "web-node");
        ASSERT_EQ(count_of(s, "\"reason\":"), 1);
        ASSERT_CONTAINS(s, "\"uid\":\"u1\"");
        free(s);
        kl_recorder_free(e);
}

TEST(long_message_is_cut) {
        struct kl_recorder *e = NULL;
        char big[4 * KL_RECORDER_MESSAGE_MAX];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        ASSERT_OK(kl_recorder_new(2, "n", &e));
        kl_recorder_record(e, &web, "Warning", "Failed", "%s", big);
        char *s = render(e, NULL, NULL);
        ASSERT_TRUE(strlen(s) < 2 * KL_RECORDER_MESSAGE_MAX);
        free(s);
        kl_recorder_free(e);
        ASSERT_NULL(kl_recorder_free(NULL));
}

TEST_MAIN()
