/* SPDX-License-Identifier: Apache-2.0 */
/* The Checksum of upstream's device manager checkpoint
 * (<root-dir>/device-plugins/kubelet_internal_checkpoint), so that a file
 * kubelet-lite writes passes upstream kubelet's VerifyChecksum and one
 * upstream wrote passes ours.
 *
 * Upstream (pkg/kubelet/cm/devicemanager/checkpoint: Data.MarshalCheckpoint,
 * pkg/kubelet/checkpointmanager/checksum: New) takes FNV-32a over
 * hashutil.DeepHashObject of the checkpointData struct, which prints it with
 * spew's "%#v"; spew hands "%#v" to Go's fmt unchanged (spew/format.go:
 * Format), so the hashed text is Go's Go-syntax representation of the value
 * as json.Unmarshal decodes it from the file:
 *
 *   checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry{
 *   checkpoint.PodDevicesEntry{PodUID:"u", ContainerName:"c", ResourceName:"r",
 *   DeviceIDs:checkpoint.DevicesPerNUMA{-1:[]string{"d0"}}, AllocResp:[]uint8{0xa}}},
 *   RegisteredDevices:map[string][]string{"r":[]string{"d0", "d1"}}}
 *
 * (one line; nil slices and maps print as "[]string(nil)", map keys sorted).
 * Rendered here from the parsed JSON, so null, [] and a missing field give
 * what Go's decoder gives. Strings are quoted as strconv.Quote does for the
 * ASCII range; other valid UTF-8 is taken as printable (device IDs and
 * names are ASCII in practice). */
#pragma once

#include <stdint.h>

#include "lib/jsonq.h"
#include "lib/strbuf.h"

/* Go's "%#v" text of the checkpointData object at node data into out;
 * -EBADMSG when the JSON does not have the checkpoint's shape. */
int kl_devchecksum_render(const struct kl_jsonq *q, int data, struct kl_buf *out);
/* FNV-32a of that text. */
int kl_devchecksum(const struct kl_jsonq *q, int data, uint32_t *ret);
