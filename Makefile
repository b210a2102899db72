# kubelet-lite: a kubelet for static pods on edge appliances.
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG, DESTDIR, PREFIX, so that
# buildroot and yocto can cross-compile it. `make V=1` shows full commands.
#
# Each module contributes through its own <dir>/module.mk:
#   KL_SRCS   sources of libkl.a (everything but main), linked into the daemon and tests
#   KL_GEN    generated sources (under $(BUILD)/gen)
# Tests are found by name: tests/unit/<module>/test-*.c, tests/integration/<module>/test-*.c,
# tests/fuzz/fuzz-*.c.

CC ?= cc
PKG_CONFIG ?= pkg-config
PROTOC_C ?= protoc-c
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# Init files; an empty value skips one (buildroot installs its own).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INITDIR ?= $(SYSCONFDIR)/init.d
BUILD ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := yaml-0.1 libprotobuf-c grpc zlib openssl
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# SANITIZE=address,undefined builds everything with those sanitizers.
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

# GNU C predefines `linux`, a field name in the generated CRI code; nothing here needs the macro.
override CPPFLAGS += -Ulinux -I. -I$(BUILD)/gen -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DKL_VERSION=\"$(VERSION)\"
override CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	-fno-strict-aliasing $(PKG_CFLAGS) -MMD -MP
# Only the libraries we call directly end up as DT_NEEDED.
override LDFLAGS += -Wl,--as-needed
LDLIBS += $(PKG_LIBS) -lm

KL_SRCS :=
KL_GEN :=
TEST_SUPPORT := tests/lib/tests.c

all: $(BUILD)/kubelet-lite

include lib/module.mk
include manifests/module.mk
include cgroups/module.mk
include runtime/module.mk
include kubelet-lite/module.mk
include kubelet-lite/pod/module.mk
include kubelet-lite/cm/module.mk
include kubelet-lite/eviction/module.mk
include kubelet-lite/prober/module.mk
include kubelet-lite/server/module.mk
include kubelet-lite/logs/module.mk
include kubelet-lite/images/module.mk
include kubelet-lite/apiserver/module.mk
include device-plugin/module.mk
include busybox-image/module.mk
include board/module.mk
include board/cross/module.mk

KL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(KL_SRCS)) \
	$(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(KL_GEN))
DAEMON_MAIN ?= kubelet-lite/main.c

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test-*.c tests/unit/*/*/test-*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
INTEG_SRCS := $(sort $(wildcard tests/integration/*/test-*.c))
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRCS))
TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_SUPPORT))

$(BUILD)/obj/%.o: %.c | $(KL_GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# protoc-c output: GNU C predefines `linux`, which is also a field name.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Ulinux -Wno-shadow -c -o $@ $<

$(BUILD)/libkl.a: $(KL_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/kubelet-lite: $(BUILD)/obj/$(DAEMON_MAIN:.c=.o) $(BUILD)/libkl.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Support sources of a unit test directory (tests/unit/<dir>/*.c other than
# test-*.c: fakes, helpers) are linked into that directory's tests, ahead of
# libkl.a, so that a fake defining every symbol of a libkl.a object replaces it.
UNIT_SUPPORT_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*/*.c tests/unit/*/*/*.c))
in_dir = $(foreach f,$(2),$(if $(filter $(1),$(dir $(f))),$(f)))
$(foreach d,$(sort $(dir $(UNIT_SUPPORT_SRCS))),$(eval \
	$(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(call in_dir,$(d),$(UNIT_SRCS))): \
	$(patsubst %.c,$(BUILD)/obj/%.o,$(call in_dir,$(d),$(UNIT_SUPPORT_SRCS)))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_OBJS) $(BUILD)/libkl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.a,$^) $(filter %.a,$^) $(LDLIBS)

# Fuzz targets: linked with the replay driver for `make check`; FUZZ=libfuzzer
# with CC=clang builds real libFuzzer binaries (see docs/FUZZING.md).
ifeq ($(FUZZ),libfuzzer)
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/libkl.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)
else
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libkl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
endif

tests: $(UNIT_BINS) $(INTEG_BINS) $(FUZZ_BINS) $(BENCH_BINS)

# --- the two README commands ---------------------------------------------
# Both first install what they need (quiet when everything is there), then
# re-enter make so pkg-config sees the freshly installed libraries. The demo
# installs only its own set (scripts/install-deps.sh demo), the tests all;
# the benchmark adds podman, which the tests never need.
deps deps-check:
	$(Q)scripts/install-deps.sh check

deps-demo:
	$(Q)scripts/install-deps.sh demo

deps-bench:
	$(Q)scripts/install-deps.sh bench

check: deps-check
	$(Q)$(MAKE) --no-print-directory all tests images
	$(Q)BUILD=$(BUILD) tests/run

# `exec`: make's SIGTERM (make forwards it to the recipe's process, and
# timeout(1) sends it) then reaches scripts/demo itself, which stops
# everything as on Ctrl-C; a shell in between would die and orphan it.
demo: deps-demo
	$(Q)$(MAKE) --no-print-directory all images
	$(Q)BUILD=$(BUILD) exec scripts/demo

# Figures for docs/PERFORMANCE.md (never pass/fail).
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory all tests images
	$(Q)BUILD=$(BUILD) tests/bench/bench.sh

unit: all tests
	$(Q)BUILD=$(BUILD) tests/run unit fuzz

# --- install -------------------------------------------------------------
# The unit and the init script name /usr/bin and /etc; follow BINDIR and SYSCONFDIR.
INSTALL_PATHS = -e 's|/usr/bin/kubelet-lite|$(BINDIR)/kubelet-lite|g' -e 's|/etc/|$(SYSCONFDIR)/|g'
install: $(BUILD)/kubelet-lite $(BUILD)/kubelet-lite-device-plugin
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/kubernetes/manifests
	install -m 0755 $(BUILD)/kubelet-lite $(DESTDIR)$(BINDIR)/kubelet-lite
	install -m 0755 $(BUILD)/kubelet-lite-device-plugin $(DESTDIR)$(BINDIR)/kubelet-lite-device-plugin
	install -m 0644 docs/kubelet-lite.8 $(DESTDIR)$(MANDIR)/man8/kubelet-lite.8
	install -m 0644 kubelet-lite/kubelet-lite.yaml $(DESTDIR)$(SYSCONFDIR)/kubernetes/kubelet-lite.yaml
ifneq ($(SYSTEMDUNITDIR),)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed $(INSTALL_PATHS) board/init/kubelet-lite.service >$(BUILD)/kubelet-lite.service
	install -m 0644 $(BUILD)/kubelet-lite.service $(DESTDIR)$(SYSTEMDUNITDIR)/kubelet-lite.service
endif
ifneq ($(INITDIR),)
	install -d $(DESTDIR)$(INITDIR)
	sed $(INSTALL_PATHS) board/init/kubelet-lite.init >$(BUILD)/kubelet-lite.init
	install -m 0755 $(BUILD)/kubelet-lite.init $(DESTDIR)$(INITDIR)/kubelet-lite
endif

clean:
	rm -rf $(BUILD)

.PHONY: all tests deps deps-check deps-demo deps-bench check demo bench unit install clean images
.DELETE_ON_ERROR:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
