#!/bin/sh
# Serve one OCI image archive (as made by busybox-image/mkimage) as a
# read-only registry on 127.0.0.1:PORT with busybox httpd, so PullImage can be
# tested without a network. containerd talks plain http to localhost.
#
#   mini-registry.sh DIR PORT ARCHIVE REPO TAG
#
# The image is then localhost:PORT/REPO:TAG. Prints the httpd pid; the caller
# kills it. TAG must contain a dot (1.0): httpd picks the manifest's
# Content-Type by "extension", and containerd needs it when resolving a tag.
set -eu
dir=$1 port=$2 archive=$3 repo=$4 tag=$5

case $tag in *.*) ;; *) echo "mini-registry: tag must contain a dot" >&2; exit 2 ;; esac
command -v busybox >/dev/null || { echo "mini-registry: busybox not found" >&2; exit 77; }

mkdir -p "$dir/oci" "$dir/www/v2/$repo/manifests" "$dir/www/v2/$repo/blobs"
tar -xf "$archive" -C "$dir/oci"
manifest=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$dir/oci/index.json" | head -n 1)
[ -n "$manifest" ] || { echo "mini-registry: no manifest in $archive" >&2; exit 1; }
cp "$dir/oci/blobs/sha256/${manifest#sha256:}" "$dir/www/v2/$repo/manifests/$tag"
cp "$dir/oci/blobs/sha256/${manifest#sha256:}" "$dir/www/v2/$repo/manifests/$manifest"
for b in "$dir"/oci/blobs/sha256/*; do
        cp "$b" "$dir/www/v2/$repo/blobs/sha256:$(basename "$b")"
done
echo ".${tag##*.}:application/vnd.oci.image.manifest.v1+json" >"$dir/httpd.conf"

busybox httpd -f -p "127.0.0.1:$port" -h "$dir/www" -c "$dir/httpd.conf" \
        </dev/null >"$dir/httpd.log" 2>&1 &
pid=$!
i=0
while ! (printf 'HEAD /v2/ HTTP/1.0\r\n\r\n' | busybox nc 127.0.0.1 "$port" >/dev/null 2>&1); do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
                echo "mini-registry: httpd did not start:" >&2
                cat "$dir/httpd.log" >&2
                kill $pid 2>/dev/null
                exit 1
        fi
        sleep 0.05
done
echo $pid
