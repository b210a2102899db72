/* SPDX-License-Identifier: Apache-2.0 */
/* The API facade's pure parts: label and field selectors,
 * Table rows as upstream prints them, request heads with any method, query
 * values, streaming URLs. */
#include "kubelet-lite/apiserver/apiconn.h"
#include "kubelet-lite/apiserver/apiserver.h"
#include "kubelet-lite/apiserver/apitable.h"
#include "lib/jsonq.h"
#include "kubelet-lite/apiserver/streamproxy.h"
#include "kubelet-lite/apiserver/tlscert.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

static const char pod[] =
        "{\"metadata\":{\"name\":\"web-node\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
        "\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
        "\"spec\":{\"nodeName\":\"node\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"containerStatuses\":["
        "{\"name\":\"a\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}},"
        "{\"name\":\"b\",\"ready\":false,\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";

TEST(label_selectors_as_upstream) {
        struct kl_jsonq q;
        ASSERT_OK(kl_jsonq_parse(pod, strlen(pod), 1000, &q));
        ASSERT_EQ(kl_apiserver_match_labels("", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("app=web", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("app==web,tier=front", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("app=web,tier=back", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_labels("app!=db", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("app!=web", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_labels("missing!=x", &q, 0), 1); /* as upstream: absent matches != */
        ASSERT_EQ(kl_apiserver_match_labels("app", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("!app", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_labels("!missing", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("tier in (front, back)", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("tier notin (front)", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_labels("missing notin (x)", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_labels("tier in front", &q, 0), -EINVAL);
        ASSERT_EQ(kl_apiserver_match_labels("=web", &q, 0), -EINVAL);
        kl_jsonq_done(&q);
}

TEST(field_selectors) {
        struct kl_jsonq q;
        ASSERT_OK(kl_jsonq_parse(pod, strlen(pod), 1000, &q));
        ASSERT_EQ(kl_apiserver_match_fields("metadata.name=web-node", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_fields("metadata.namespace==default,spec.nodeName=node", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_fields("status.phase!=Failed,status.phase!=Succeeded", &q, 0), 1);
        ASSERT_EQ(kl_apiserver_match_fields("status.phase=Pending", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_fields("spec.nodeName!=node", &q, 0), 0);
        ASSERT_EQ(kl_apiserver_match_fields("nonsense", &q, 0), -EINVAL);
        kl_jsonq_done(&q);
}

TEST(human_duration_as_upstream) {
        static const struct {
                int64_t s;
                const char *want;
        } cases[] = {{-5, "<invalid>"}, {-1, "0s"},         {0, "0s"},        {119, "119s"},    {120, "2m"},
                     {150, "2m30s"},    {600, "10m"},       {10799, "179m"},  {10800, "3h"},    {11100, "3h5m"},
                     {28800, "8h"},     {172799, "47h"},    {172800, "2d"},   {180000, "2d2h"}, {691200, "8d"},
                     {63072000, "2y"},  {63158400, "2y1d"}, {252288000, "8y"}};
        char buf[32];
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                kl_apitable_human_duration(cases[i].s, buf, sizeof(buf));
                ASSERT_STREQ(buf, cases[i].want);
        }
}

TEST(pod_table_row) {
        struct kl_jsonq q;
        struct kl_buf b = {};
        ASSERT_OK(kl_jsonq_parse(pod, strlen(pod), 1000, &q));
        kl_apitable_begin(&b, KL_APITABLE_POD, "7");
        kl_apitable_row(&b, KL_APITABLE_POD, &q, 0, true, 1767225600 + 150); /* 2m30s after creation */
        kl_apitable_end(&b);
        kl_buf_puts(&b, "");
        ASSERT_CONTAINS(b.data, "\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\"");
        ASSERT_CONTAINS(
                b.data,
                "{\"name\":\"Readiness Gates\",\"type\":\"string\",\"format\":\"\",\"description\":\"\",\"priority\":1}");
        /* b waits in CrashLoopBackOff: that is the status; 1 of 2 ready; restarts summed */
        ASSERT_CONTAINS(
                b.data,
                "\"cells\":[\"web-node\",\"1/2\",\"CrashLoopBackOff\",5,\"2m30s\",\"10.0.0.5\",\"node\",\"<none>\",\"<none>\"]");
        ASSERT_CONTAINS(
                b.data,
                "\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{\"name\":\"web-node\"");
        struct kl_jsonq t;
        ASSERT_OK(kl_jsonq_parse(b.data, b.len, 10000, &t)); /* valid JSON */
        kl_jsonq_done(&t);
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);

        const char term[] = "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
                            "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
                            "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}";
        ASSERT_OK(kl_jsonq_parse(term, strlen(term), 1000, &q));
        kl_apitable_row(&b, KL_APITABLE_POD, &q, 0, true, 0);
        kl_buf_puts(&b, "");
        ASSERT_CONTAINS(b.data, "\"p\",\"1/1\",\"Terminating\",0,");
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);

        const char done[] = "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                            "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
                            "{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}";
        ASSERT_OK(kl_jsonq_parse(done, strlen(done), 1000, &q));
        kl_apitable_row(&b, KL_APITABLE_POD, &q, 0, true, 0);
        kl_buf_puts(&b, "");
        ASSERT_CONTAINS(b.data, "\"j\",\"0/1\",\"Signal:9\",0,");
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);
}

TEST(event_table_row) {
        const char ev[] = "{\"metadata\":{\"name\":\"e1\",\"namespace\":\"default\"},\"involvedObject\":{\"kind\":"
                          "\"Pod\",\"name\":\"web\",\"fieldPath\":\"spec.containers{a}\"},\"reason\":\"BackOff\","
                          "\"message\":\"Back-off\",\"source\":{\"component\":\"kubelet\",\"host\":\"node\"},"
                          "\"firstTimestamp\":\"2026-01-01T00:00:00Z\",\"lastTimestamp\":\"2026-01-01T00:01:00Z\","
                          "\"count\":4,\"type\":\"Warning\"}";
        struct kl_jsonq q;
        struct kl_buf b = {};
        ASSERT_OK(kl_jsonq_parse(ev, strlen(ev), 1000, &q));
        kl_apitable_row(&b, KL_APITABLE_EVENT, &q, 0, true, 1767225600 + 90);
        kl_buf_puts(&b, "");
        ASSERT_CONTAINS(b.data, "[\"30s\",\"Warning\",\"BackOff\",\"pod/web\",\"spec.containers{a}\",\"kubelet, node\","
                                "\"Back-off\",\"90s\",\"4\",\"e1\"]");
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);
}

TEST(request_heads_with_any_method) {
        struct kl_api_req r;
        const char get[] = "GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\nauthorization:  Bearer abc \r\n"
                           "Accept: application/json;as=Table\r\n\r\nextra";
        int n = kl_api_parse_request(get, sizeof(get) - 1, &r);
        ASSERT_EQ(n, (int) (sizeof(get) - 1 - 5));
        ASSERT_STREQ(r.method, "GET");
        ASSERT_STREQ(r.path, "/api/v1/pods");
        ASSERT_STREQ(r.query, "watch=true");
        ASSERT_STREQ(r.authorization, "Bearer abc");
        ASSERT_STREQ(r.accept, "application/json;as=Table");
        const char post[] = "POST /api/v1/namespaces/d/pods/p/exec?command=ls HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n"
                            "Connection: Upgrade\r\n\r\n";
        ASSERT_EQ(kl_api_parse_request(post, sizeof(post) - 1, &r), (int) (sizeof(post) - 1));
        ASSERT_STREQ(r.method, "POST");
        ASSERT_STREQ(r.upgrade, "SPDY/3.1");
        ASSERT_EQ(kl_api_parse_request(post, 20, &r), 0); /* incomplete */
        ASSERT_ERR(kl_api_parse_request("P@ST / HTTP/1.1\r\n\r\n", 19, &r), EBADMSG);
        ASSERT_ERR(kl_api_parse_request("VERYLONGMETHODNAMEX / HTTP/1.1\r\n\r\n", 34, &r), EBADMSG);
        ASSERT_ERR(kl_api_parse_request("GET /a%00 HTTP/1.1\r\n\r\n", 22, &r), EBADMSG);
        ASSERT_ERR(kl_api_parse_request("GET / HTTP/2.0\r\n\r\n", 18, &r), EPROTONOSUPPORT);
}

TEST(query_values) {
        char v[32];
        ASSERT_TRUE(kl_api_query_get("a=1&container=x%2Fy&b", "container", v, sizeof(v)));
        ASSERT_STREQ(v, "x/y");
        ASSERT_TRUE(kl_api_query_get("a=1&b", "b", v, sizeof(v)));
        ASSERT_STREQ(v, "");
        ASSERT_TRUE(kl_api_query_get("l=app+in+(a)", "l", v, sizeof(v)));
        ASSERT_STREQ(v, "app in (a)");
        ASSERT_FALSE(kl_api_query_get("ab=1", "a", v, sizeof(v)));
        ASSERT_FALSE(kl_api_query_get("a=%00", "a", v, sizeof(v)));
        ASSERT_FALSE(kl_api_query_get("a=%2", "a", v, sizeof(v)));
        ASSERT_FALSE(kl_api_query_get("a=0123456789012345678901234567890123456789", "a", v, sizeof(v)));
}

TEST(streaming_urls) {
        char host[64], path[64];
        int port;
        ASSERT_OK(kl_streamproxy_parse_url("http://127.0.0.1:35721/exec/AbC", host, sizeof(host), &port, path,
                                           sizeof(path)));
        ASSERT_STREQ(host, "127.0.0.1");
        ASSERT_EQ(port, 35721);
        ASSERT_STREQ(path, "/exec/AbC");
        ASSERT_OK(kl_streamproxy_parse_url("http://[::1]:1/pf/x", host, sizeof(host), &port, path, sizeof(path)));
        ASSERT_STREQ(host, "::1");
        ASSERT_ERR(kl_streamproxy_parse_url("https://127.0.0.1:1/x", host, sizeof(host), &port, path, sizeof(path)),
                   EPROTONOSUPPORT);
        ASSERT_ERR(kl_streamproxy_parse_url("http://127.0.0.1:0/x", host, sizeof(host), &port, path, sizeof(path)),
                   EINVAL);
        ASSERT_ERR(kl_streamproxy_parse_url("http://127.0.0.1:80/a b", host, sizeof(host), &port, path, sizeof(path)),
                   EINVAL);
        ASSERT_ERR(kl_streamproxy_parse_url("http://127.0.0.1/x", host, sizeof(host), &port, path, sizeof(path)),
                   EINVAL);
}

TEST(kubeconfig_and_certificate) {
        char dir[] = "/tmp/kl-apiserver.XXXXXX", path[128], text[8192];
        struct kl_tls *t = NULL;
        struct kl_error err = {};
        const char *names[] = {"localhost", "node1", NULL}, *ips[] = {"127.0.0.1", "::1", NULL};
        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_OK(kl_tls_new(names, ips, &t, &err));
        ASSERT_NOT_NULL(kl_tls_server_ctx(t));
        ASSERT_GE(strlen(kl_tls_ca_data(t)), 200);
        void *client = kl_tls_client_ctx(kl_tls_ca_data(t)); /* the CA data decodes to a certificate */
        ASSERT_NOT_NULL(client);
        snprintf(path, sizeof(path), "%s/kubeconfig", dir);
        ASSERT_OK(kl_apiserver_write_kubeconfig(path, "https://127.0.0.1:10250", kl_tls_ca_data(t), "tok"));
        struct stat st;
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        FILE *f = fopen(path, "re");
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        ASSERT_CONTAINS(text, "server: https://127.0.0.1:10250\n");
        ASSERT_CONTAINS(text, "    token: tok\n");
        ASSERT_CONTAINS(text, kl_tls_ca_data(t));
        ASSERT_CONTAINS(text, "current-context: kubelet-lite\n");
        /* rewritten in place, atomically: no temporary file stays */
        ASSERT_OK(kl_apiserver_write_kubeconfig(path, "https://[::1]:1", "Y2E=", "tok2"));
        snprintf(text, sizeof(text), "%s/kubeconfig.tmp", dir);
        ASSERT_TRUE(access(text, F_OK) < 0);
        SSL_CTX_free(client);
        kl_tls_free(t);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
        ASSERT_NULL(kl_tls_client_ctx("not base64 of a certificate"));
}

TEST_MAIN()
