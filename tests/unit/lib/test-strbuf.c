/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/strbuf.h"

#include <math.h>
#include <string.h>

#include "tests/lib/tests.h"

/* Take the JSON text, failing the test when the writer was poisoned. */
static char *json_take(struct kl_json *j) {
        char *s = kl_buf_steal(&j->buf, NULL);
        ASSERT_NOT_NULL(s);
        return s;
}

static char *escaped(const char *in) {
        struct kl_buf b = {};
        kl_json_escape(&b, in);
        return kl_buf_steal(&b, NULL);
}

TEST(buf_grows_and_stays_terminated) {
        struct kl_buf b = {};
        char chunk[100];
        size_t len;

        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 1000; i++) { /* 100 kB: many doublings from 256 */
                kl_buf_append(&b, chunk, sizeof(chunk));
                ASSERT_EQ(b.len, (size_t) (i + 1) * sizeof(chunk));
                ASSERT_TRUE(b.cap > b.len);
                ASSERT_EQ(b.data[b.len], '\0');
        }
        kl_buf_printf(&b, "%d-%s", 42, "end");
        ASSERT_EQ(b.len, 100000 + 6);
        kl_buf_puts(&b, "!");
        char *s = kl_buf_steal(&b, &len);
        ASSERT_EQ(len, 100007);
        ASSERT_EQ(strlen(s), len);
        ASSERT_STREQ(s + 100000, "42-end!");
        ASSERT_NULL(b.data);
        ASSERT_EQ(b.len, 0);
        free(s);
        printf("  100007 bytes appended in 100-byte pieces, length and NUL right throughout\n");
}

TEST(buf_steal_empty_gives_empty_string) {
        struct kl_buf b = {};
        size_t len = 99;
        char *s = kl_buf_steal(&b, &len);
        ASSERT_NOT_NULL(s);
        ASSERT_STREQ(s, "");
        ASSERT_EQ(len, 0);
        free(s);
}

TEST(buf_oom_is_sticky) {
        struct kl_buf b = {};
        kl_buf_puts(&b, "abc");
        /* An append that cannot possibly fit: the size computation must not wrap. */
        kl_buf_append(&b, "", SIZE_MAX - 1);
        ASSERT_TRUE(b.oom);
        kl_buf_puts(&b, "more");
        ASSERT_EQ(b.len, 3);
        ASSERT_NULL(kl_buf_steal(&b, NULL));
        ASSERT_NULL(b.data);
        printf("  an append of SIZE_MAX-1 bytes poisons the buffer; steal returns NULL and frees\n");
}

TEST(escape_specials_and_control_chars) {
        char *s = escaped("a\"b\\c\nd\re\tf\x01g\x1fh\bi\fj\x7f");
        ASSERT_STREQ(s, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\\u0008i\\u000cj\x7f\"");
        printf("  %s\n", s);
        free(s);
}

TEST(escape_utf8_passthrough) {
        /* é, €, U+1F600, U+10FFFF, and U+2028 (valid in JSON) stay as they are. */
        const char *in = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xe2\x80\xa8";
        char *s = escaped(in);
        char want[128];
        snprintf(want, sizeof(want), "\"%s\"", in);
        ASSERT_STREQ(s, want);
        free(s);
}

TEST(escape_invalid_utf8_becomes_replacement) {
        struct {
                const char *in, *out;
        } cases[] = {
                {"a\377b", "\"a\\ufffdb\""},                              /* never valid */
                {"\xc3", "\"\\ufffd\""},                                  /* truncated at the end */
                {"\xc3(", "\"\\ufffd(\""},                                /* bad continuation */
                {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
                {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* surrogate U+D800 */
                {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > U+10FFFF */
                {"\x80x", "\"\\ufffdx\""},                                /* lone continuation */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *s = escaped(cases[i].in);
                ASSERT_STREQ(s, cases[i].out);
                free(s);
        }
        printf("  %zu invalid sequences replaced by U+FFFD, never copied raw\n", ELEMENTSOF(cases));
}

TEST(json_commas_in_nested_objects_and_arrays) {
        struct kl_json j = {};
        kl_json_begin_object(&j);
        kl_json_kv_string(&j, "a", "x");
        kl_json_key(&j, "b");
        kl_json_begin_array(&j);
        kl_json_int(&j, 1);
        kl_json_begin_object(&j);
        kl_json_end_object(&j);
        kl_json_begin_array(&j);
        kl_json_end_array(&j);
        kl_json_begin_object(&j);
        kl_json_kv_int(&j, "c", -5);
        kl_json_kv_bool(&j, "d", true);
        kl_json_key(&j, "e");
        kl_json_null(&j);
        kl_json_end_object(&j);
        kl_json_string(&j, NULL);
        kl_json_uint(&j, UINT64_MAX);
        kl_json_end_array(&j);
        kl_json_key(&j, "f");
        kl_json_begin_object(&j);
        kl_json_key(&j, "g");
        kl_json_begin_array(&j);
        kl_json_bool(&j, false);
        kl_json_end_array(&j);
        kl_json_end_object(&j);
        kl_json_kv_int(&j, "h", INT64_MIN);
        kl_json_end_object(&j);
        ASSERT_EQ(j.depth, 0);
        char *s = json_take(&j);
        ASSERT_STREQ(s, "{\"a\":\"x\",\"b\":[1,{},[],{\"c\":-5,\"d\":true,\"e\":null},null,18446744073709551615],"
                        "\"f\":{\"g\":[false]},\"h\":-9223372036854775808}");
        printf("  %s\n", s);
        free(s);
}

TEST(json_top_level_array_of_values) {
        struct kl_json j = {};
        kl_json_begin_array(&j);
        for (int i = 0; i < 3; i++)
                kl_json_string(&j, "s");
        kl_json_end_array(&j);
        char *s = json_take(&j);
        ASSERT_STREQ(s, "[\"s\",\"s\",\"s\"]");
        free(s);
}

TEST(json_double_non_finite_is_null) {
        struct kl_json j = {};
        kl_json_begin_array(&j);
        kl_json_double(&j, 0.5);
        kl_json_double(&j, NAN);
        kl_json_double(&j, INFINITY);
        kl_json_double(&j, -INFINITY);
        kl_json_double(&j, 1e300);
        kl_json_end_array(&j);
        char *s = json_take(&j);
        ASSERT_STREQ(s, "[0.5,null,null,null,1e+300]");
        free(s);
}

TEST(json_time_rfc3339) {
        struct kl_json j = {};
        kl_json_begin_object(&j);
        kl_json_kv_time(&j, "t", INT64_C(1136214245) * 1000000000 + 999999999);
        kl_json_kv_time(&j, "zero", 0);
        kl_json_end_object(&j);
        char *s = json_take(&j);
        ASSERT_STREQ(s, "{\"t\":\"2006-01-02T15:04:05Z\",\"zero\":\"1970-01-01T00:00:00Z\"}");
        free(s);
}

TEST(json_keys_are_escaped) {
        struct kl_json j = {};
        kl_json_begin_object(&j);
        kl_json_kv_string(&j, "k\"\n", "v\x02");
        kl_json_end_object(&j);
        char *s = json_take(&j);
        ASSERT_STREQ(s, "{\"k\\\"\\n\":\"v\\u0002\"}");
        free(s);
}

TEST(json_depth_limit_exact_is_fine) {
        struct kl_json j = {};
        for (int i = 0; i < KL_JSON_MAX_DEPTH; i++)
                kl_json_begin_array(&j);
        kl_json_int(&j, 1);
        kl_json_int(&j, 2);
        for (int i = 0; i < KL_JSON_MAX_DEPTH; i++)
                kl_json_end_array(&j);
        char *s = json_take(&j);
        ASSERT_EQ(strlen(s), 2 * KL_JSON_MAX_DEPTH + 3);
        ASSERT_NOT_NULL(strstr(s, "[1,2]"));
        free(s);
        printf("  %d levels of nesting are allowed\n", KL_JSON_MAX_DEPTH);
}

TEST(json_depth_overflow_poisons) {
        struct kl_json j = {};
        for (int i = 0; i < KL_JSON_MAX_DEPTH + 5; i++)
                kl_json_begin_object(&j);
        ASSERT_TRUE(j.buf.oom);
        for (int i = 0; i < KL_JSON_MAX_DEPTH + 5; i++)
                kl_json_end_object(&j);
        ASSERT_EQ(j.depth, 0);
        ASSERT_NULL(kl_buf_steal(&j.buf, NULL));
        printf("  nesting %d levels deep poisons the writer: no truncated or comma-less JSON comes out\n",
               KL_JSON_MAX_DEPTH + 1);
}

TEST_MAIN()
