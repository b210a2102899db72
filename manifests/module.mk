# manifests/: manifest files -> validated Pod model, and the directory source.
KL_SRCS += manifests/yaml.c manifests/quantity.c manifests/names.c manifests/strv.c \
	manifests/pod.c manifests/decode.c manifests/container.c manifests/security.c manifests/downward.c manifests/spec.c \
	manifests/check.c manifests/identity.c manifests/manifest.c manifests/source.c
