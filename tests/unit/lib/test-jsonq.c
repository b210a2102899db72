/* SPDX-License-Identifier: Apache-2.0 */
/* lib/jsonq: paths, decoded strings, verbatim copies, strictness and caps. */
#include "lib/jsonq.h"

#include <errno.h>
#include <string.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

static const char pod[] =
        "{\"metadata\":{\"name\":\"web-node\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
        "\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
        "\"spec\":{\"nodeName\":\"node\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"containerStatuses\":["
        "{\"name\":\"a\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}},"
        "{\"name\":\"b\",\"ready\":false,\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";

TEST(jsonq_reads_paths_and_strings) {
        struct kl_jsonq q;
        char buf[64];
        ASSERT_OK(kl_jsonq_parse(pod, strlen(pod), 1000, &q));
        ASSERT_STREQ(kl_jsonq_path_str(&q, 0, "metadata.name", buf, sizeof(buf)), "web-node");
        ASSERT_STREQ(kl_jsonq_path_str(&q, 0, "status.phase", buf, sizeof(buf)), "Running");
        ASSERT_STREQ(kl_jsonq_path_str(&q, 0, "no.such", buf, sizeof(buf)), "");
        ASSERT_EQ(kl_jsonq_path_int(&q, 0, "spec.nodeName", -1), -1); /* not a number */
        int cs = kl_jsonq_path(&q, 0, "status.containerStatuses");
        ASSERT_GE(cs, 0);
        ASSERT_EQ(kl_jsonq_path_int(&q, q.nodes[cs].child, "restartCount", 0), 2);
        kl_jsonq_done(&q);

        const char esc[] = "{\"s\":\"a\\\"b\\\\c\\n\\u00e9\\u0000\"}";
        ASSERT_OK(kl_jsonq_parse(esc, strlen(esc), 10, &q));
        ASSERT_STREQ(kl_jsonq_path_str(&q, 0, "s", buf, sizeof(buf)), "a\"b\\c\n\xc3\xa9\xef\xbf\xbd");
        struct kl_buf b = {};
        kl_jsonq_copy(&q, kl_jsonq_get(&q, 0, "s"), &b);
        kl_buf_puts(&b, "");
        ASSERT_STREQ(b.data, "\"a\\\"b\\\\c\\n\\u00e9\\u0000\"");
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);
}

TEST(jsonq_rejects_bad_json_and_caps) {
        static const char *const bad[] = {"",      "{",          "{\"a\":}",  "[1,]",     "{\"a\" 1}",
                                          "01",    "1.",         "\"\\x\"",   "\"a\nb\"", "tru",
                                          "[1] 2", "{\"a\":1,}", "\"\\u12\"", "-",        "{1:2}"};
        struct kl_jsonq q;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_ERR(kl_jsonq_parse(bad[i], strlen(bad[i]), 100, &q), EBADMSG);
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        ASSERT_ERR(kl_jsonq_parse(deep, 200, 1000, &q), E2BIG);
        ASSERT_ERR(kl_jsonq_parse("[1,2,3,4]", 9, 3, &q), E2BIG);
        ASSERT_OK(kl_jsonq_parse(" [ 1 , -2.5e3 , true , null , \"x\" , {} ] ", 41, 100, &q));
        kl_jsonq_done(&q);
}

TEST_MAIN()
