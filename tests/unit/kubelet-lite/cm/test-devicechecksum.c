/* SPDX-License-Identifier: Apache-2.0 */
/* Upstream's device manager checkpoint checksum. The expected texts and sums
 * were computed by Go 1.19 (Debian's golang-go) on the same JSON, the way
 * upstream does it: json.Unmarshal into checkpoint.Data (types named as in
 * pkg/kubelet/cm/devicemanager/checkpoint), then hash/fnv New32a over
 * fmt.Sprintf("%#v", data.Data), which is what spew's "%#v" comes to. */
#include "kubelet-lite/cm/devicechecksum.h"

#include <errno.h>
#include <string.h>

#include "kubelet-lite/cm/devicestate.h"
#include "tests/lib/tests.h"

struct vector {
        const char *json, *text;
        uint32_t sum;
};

static const struct vector vectors[] = {
        /* one allocation and two resources, as upstream writes them */
        {"{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":\"2f1a0c9e-61b4-4e1a-9d0c-7f7e2b1c0a11\",\"ContainerName\":"
         "\"main\",\"ResourceName\":\"kubelet-lite.io/serial\",\"DeviceIDs\":{\"-1\":[\"ttyUSB0\",\"ttyUSB1\"]},"
         "\"AllocResp\":\"GhsKDC9kZXYvdHR5VVNCMBIML2Rldi90dHlVU0Iw\"}],\"RegisteredDevices\":{\"kubelet-lite.io/"
         "serial\":[\"ttyUSB0\",\"ttyUSB1\"],\"example.com/dongle\":[\"d0\"]}},\"Checksum\":0}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry{checkpoint.PodDevicesEntry{"
         "PodUID:\"2f1a0c9e-61b4-4e1a-9d0c-7f7e2b1c0a11\", ContainerName:\"main\", ResourceName:\"kubelet-lite.io/"
         "serial\", DeviceIDs:checkpoint.DevicesPerNUMA{-1:[]string{\"ttyUSB0\", \"ttyUSB1\"}}, AllocResp:[]uint8{"
         "0x1a, 0x1b, 0xa, 0xc, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x74, 0x74, 0x79, 0x55, 0x53, 0x42, 0x30, 0x12, 0xc, "
         "0x2f, 0x64, 0x65, 0x76, 0x2f, 0x74, 0x74, 0x79, 0x55, 0x53, 0x42, 0x30}}}, RegisteredDevices:map[string]"
         "[]string{\"example.com/dongle\":[]string{\"d0\"}, \"kubelet-lite.io/serial\":[]string{\"ttyUSB0\", "
         "\"ttyUSB1\"}}}",
         2053323774u},
        /* upstream with nothing allocated: a nil slice is null */
        {"{\"Data\":{\"PodDeviceEntries\":null,\"RegisteredDevices\":{}},\"Checksum\":0}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry(nil), "
         "RegisteredDevices:map[string][]string{}}",
         2098558327u},
        /* escapes, NUMA keys in numeric order, null and empty, missing fields */
        {"{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":\"a\\\"b\\\\c\\n\\u00e9\\u0001\\t\\u007f\\u0085x\","
         "\"ResourceName\":\"r\",\"DeviceIDs\":{\"1\":[\"n1\"],\"-1\":[],\"0\":null,\"10\":[\"a\",null,\"\"]},"
         "\"AllocResp\":null},{\"PodUID\":\"u2\",\"ContainerName\":\"\",\"ResourceName\":\"r2\",\"DeviceIDs\":null,"
         "\"AllocResp\":\"\"}],\"RegisteredDevices\":{\"zeta\":null,\"alpha\":[],\"Beta\":[\"x\"],\"alpha2\":"
         "[\"y\"]}},\"Checksum\":0}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry{checkpoint.PodDevicesEntry{"
         "PodUID:\"a\\\"b\\\\c\\n\xc3\xa9\\x01\\t\\x7f\\u0085x\", ContainerName:\"\", ResourceName:\"r\", "
         "DeviceIDs:checkpoint.DevicesPerNUMA{-1:[]string{}, 0:[]string(nil), 1:[]string{\"n1\"}, 10:[]string{"
         "\"a\", \"\", \"\"}}, AllocResp:[]uint8(nil)}, checkpoint.PodDevicesEntry{PodUID:\"u2\", ContainerName:"
         "\"\", ResourceName:\"r2\", DeviceIDs:checkpoint.DevicesPerNUMA(nil), AllocResp:[]uint8{}}}, "
         "RegisteredDevices:map[string][]string{\"Beta\":[]string{\"x\"}, \"alpha\":[]string{}, \"alpha2\":"
         "[]string{\"y\"}, \"zeta\":[]string(nil)}}",
         1840676773u},
        {"{\"Data\":{\"PodDeviceEntries\":[]},\"Checksum\":0}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry{}, "
         "RegisteredDevices:map[string][]string(nil)}",
         1669051221u},
        {"{\"Data\":{},\"Checksum\":0}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry(nil), "
         "RegisteredDevices:map[string][]string(nil)}",
         1968290289u},
        /* what kubelet-lite wrote in the integration test, and Go accepted */
        {"{\"Data\":{\"PodDeviceEntries\":[],\"RegisteredDevices\":{\"kubelet-lite.io/serial\":[\"ttyKL0\","
         "\"ttyKL1\",\"ttyKL2\"]}},\"Checksum\":2342633701}",
         "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry{}, RegisteredDevices:map[string]"
         "[]string{\"kubelet-lite.io/serial\":[]string{\"ttyKL0\", \"ttyKL1\", \"ttyKL2\"}}}",
         2342633701u},
};

TEST(go_vectors) {
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                struct kl_jsonq q = {0};
                struct kl_buf b = {0};
                uint32_t sum = 0;
                ASSERT_OK(kl_jsonq_parse(vectors[i].json, strlen(vectors[i].json), 10000, &q));
                int data = kl_jsonq_get(&q, 0, "Data");
                ASSERT_OK(kl_devchecksum_render(&q, data, &b));
                ASSERT_TRUE(b.data != NULL);
                kl_buf_puts(&b, ""); /* NUL-terminated */
                ASSERT_STREQ(b.data, vectors[i].text);
                ASSERT_OK(kl_devchecksum(&q, data, &sum));
                ASSERT_EQ(sum, vectors[i].sum);
                kl_buf_free_contents(&b);
                kl_jsonq_done(&q);
        }
}

/* Shapes Go's decoder refuses are refused, not hashed. */
TEST(wrong_shapes) {
        static const char *const bad[] = {
                "{\"Data\":{\"PodDeviceEntries\":{}}}",
                "{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":1}]}}",
                "{\"Data\":{\"PodDeviceEntries\":[{\"DeviceIDs\":{\"x\":[]}}]}}",
                "{\"Data\":{\"PodDeviceEntries\":[{\"DeviceIDs\":{\" 1\":[]}}]}}",
                "{\"Data\":{\"PodDeviceEntries\":[{\"AllocResp\":\"!!\"}]}}",
                "{\"Data\":{\"RegisteredDevices\":[]}}",
                "{\"Data\":{\"RegisteredDevices\":{\"r\":[1]}}}",
                "{\"Data\":[]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct kl_jsonq q = {0};
                uint32_t sum;
                ASSERT_OK(kl_jsonq_parse(bad[i], strlen(bad[i]), 1000, &q));
                ASSERT_ERR(kl_devchecksum(&q, kl_jsonq_get(&q, 0, "Data"), &sum), EBADMSG);
                kl_jsonq_done(&q);
        }
}

/* A checkpoint written by kubelet-lite carries upstream's checksum and
 * loads again; a changed byte is refused as upstream refuses it. */
TEST(written_checkpoint_verifies) {
        static const char upstream[] =
                "{\"Data\":{\"PodDeviceEntries\":null,\"RegisteredDevices\":{}},\"Checksum\":2098558327}";
        static const char tampered[] =
                "{\"Data\":{\"PodDeviceEntries\":null,\"RegisteredDevices\":{}},\"Checksum\":2098558328}";
        struct kl_devstate *st = NULL;
        struct kl_error err = {};
        ASSERT_OK(kl_devstate_new(&st));
        ASSERT_OK(kl_devstate_from_json(st, upstream, strlen(upstream), &err));
        ASSERT_ERR(kl_devstate_from_json(st, tampered, strlen(tampered), &err), EBADMSG);
        ASSERT_CONTAINS(kl_error_str(&err), "checksum mismatch");
        kl_devstate_free(st);
}

TEST_MAIN()
