# shellcheck shell=bash
# Shared setup for the kubectl tests: a kubelet-lite with its API facade on a
# free port, and KUBECONFIG pointing at the kubeconfig it writes.
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/lib.sh"

# Debian's kubectl (kubernetes-client, 1.20) first: scripts/install-deps.sh
# unpacks it here when another package owns /usr/bin/kubectl.
DEBIAN_KUBECTL=/var/cache/kubelet-lite/kubernetes-client/usr/bin/kubectl
if [ -z "${KUBECTL:-}" ] && [ -x "$DEBIAN_KUBECTL" ]; then
        KUBECTL=$DEBIAN_KUBECTL
fi
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
if [ -z "$KUBECTL" ]; then
        echo "SKIP: no kubectl (Debian: apt-get install kubernetes-client)"
        exit 77
fi
echo "# kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -1))"

# kl_facade_start [extra KubeletConfiguration lines on stdin]
kl_facade_start() {
        KL_FACADE_PORT=$(free_port)
        kl_config < <(echo "apiFacadePort: $KL_FACADE_PORT"; cat) # not a pipe: kl_config sets KL_CONFIG
        kl_start || return 1
        export KUBECONFIG=$KL_ROOT/kubeconfig
        KL_TOKEN=$(awk '/^    token: /{print $2}' "$KUBECONFIG")
        KL_FACADE=https://127.0.0.1:$KL_FACADE_PORT
}

# kc ARGS...: kubectl against the facade, with a bound on its time
kc() { timeout 30 "$KUBECTL" --request-timeout=20s "$@"; }

# api PATH [curl args]: a request with the token (-k: the test checks the certificate elsewhere)
api() { local p=$1; shift; curl -sk -H "Authorization: Bearer $KL_TOKEN" "$@" "$KL_FACADE$p"; }

# manifest NAME < yaml-body: drop a manifest atomically
manifest() { cat >"$KL_TMP/m.yaml" && mv "$KL_TMP/m.yaml" "$KL_MANIFESTS/$1.yaml"; }
