# src/node: rules for this component go here (see Makefile.am)

# --- images (src/node/image, owned by the images engineer) ---
noinst_LIBRARIES += src/node/image/libimage.a
src_node_image_libimage_a_SOURCES = \
	src/node/image/image.h \
	src/node/image/ref.c \
	src/node/image/image-internal.h \
	src/node/image/digest.c \
	src/node/image/manifest.c \
	src/node/image/store.c \
	src/node/image/unpack.c \
	src/node/image/auth.c \
	src/node/image/registry.c \
	src/node/image/pull.c \
	src/node/image/archive.c \
	src/node/image/snapshot.c \
	src/cli/image.c
src_node_image_libimage_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS) \
	$(CURL_CFLAGS) $(ARCHIVE_CFLAGS)
IMAGE_LIBS = src/node/image/libimage.a $(LIBHUSK_LIBS) $(NETTLE_LIBS) $(CURL_LIBS) $(ARCHIVE_LIBS)
HUSK_COMPONENT_LIBS += src/node/image/libimage.a
HUSK_COMPONENT_DEPLIBS += $(NETTLE_LIBS) $(CURL_LIBS) $(ARCHIVE_LIBS)

IMAGE_UNIT_TESTS = tests/unit/test-image-ref tests/unit/test-image-unpack \
	tests/unit/test-image-manifest tests/unit/test-image-store tests/unit/test-image-snapshot
check_PROGRAMS += $(IMAGE_UNIT_TESTS)
TESTS += $(IMAGE_UNIT_TESTS)
tests_unit_test_image_ref_SOURCES = tests/unit/test-image-ref.c
tests_unit_test_image_ref_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_ref_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_unpack_SOURCES = tests/unit/test-image-unpack.c
tests_unit_test_image_unpack_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_image_unpack_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_manifest_SOURCES = tests/unit/test-image-manifest.c
tests_unit_test_image_manifest_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_manifest_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_store_SOURCES = tests/unit/test-image-store.c
tests_unit_test_image_store_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_store_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_snapshot_SOURCES = tests/unit/test-image-snapshot.c
tests_unit_test_image_snapshot_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_image_snapshot_LDADD = $(IMAGE_LIBS)

# libFuzzer targets (make fuzz; FUZZ_BUILD and LIB_FUZZ_SRCS come from tests/local.mk).
IMAGE_FUZZ_SRCS = $(addprefix $(top_srcdir)/src/node/image/,ref.c digest.c manifest.c auth.c unpack.c)
IMAGE_FUZZ_LIBS = $(JANSSON_LIBS) $(YAML_LIBS) $(NETTLE_LIBS) $(ARCHIVE_LIBS) -lpthread
tests/fuzz/fuzz-image-ref: $(top_srcdir)/tests/fuzz/fuzz-image-ref.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-manifest: $(top_srcdir)/tests/fuzz/fuzz-image-manifest.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-layer: $(top_srcdir)/tests/fuzz/fuzz-image-layer.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-archive: $(top_srcdir)/tests/fuzz/fuzz-image-archive.c $(IMAGE_FUZZ_SRCS) \
		$(addprefix $(top_srcdir)/src/node/image/,store.c archive.c) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
fuzz: tests/fuzz/fuzz-image-ref tests/fuzz/fuzz-image-manifest tests/fuzz/fuzz-image-layer \
	tests/fuzz/fuzz-image-archive
CLEANFILES += tests/fuzz/fuzz-image-ref tests/fuzz/fuzz-image-manifest tests/fuzz/fuzz-image-layer \
	tests/fuzz/fuzz-image-archive
# --- end images ---

# --- node agent ---
noinst_LIBRARIES += src/node/agent/libagent.a
src_node_agent_libagent_a_SOURCES = \
	src/node/agent/crilog.h src/node/agent/crilog.c src/node/agent/logpump.c \
	src/node/agent/restart.h src/node/agent/restart.c \
	src/node/agent/agent-internal.h src/node/agent/util.c \
	src/node/agent/podspec.h src/node/agent/env.c \
	src/node/agent/resources.c src/node/agent/dns.c \
	src/node/agent/volume.h src/node/agent/atomic.c src/node/agent/volsrc.c \
	src/node/agent/voldisk.c \
	src/node/agent/probe.h src/node/agent/probe-internal.h src/node/agent/probe.c \
	src/node/agent/grpc.c \
	src/node/agent/status.h src/node/agent/status.c \
	src/node/agent/sync.h src/node/agent/sync.c \
	src/node/agent/hooks.h src/node/agent/hooks.c \
	src/node/agent/node.h src/node/agent/node.c \
	src/node/agent/static.h src/node/agent/static.c \
	src/node/agent/events.h src/node/agent/events.c
src_node_agent_libagent_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
AGENT_LIBS = src/node/agent/libagent.a $(LIBHUSK_LIBS) $(CURL_LIBS)
HUSK_COMPONENT_LIBS += src/node/agent/libagent.a
HUSK_COMPONENT_DEPLIBS += $(CURL_LIBS)

AGENT_UNIT_TESTS = tests/unit/test-agent-crilog tests/unit/test-agent-restart \
	tests/unit/test-agent-podspec tests/unit/test-agent-volume tests/unit/test-agent-probe \
	tests/unit/test-agent-status tests/unit/test-agent-sync tests/unit/test-agent-node \
	tests/unit/test-agent-static
check_PROGRAMS += $(AGENT_UNIT_TESTS)
TESTS += $(AGENT_UNIT_TESTS)
tests_unit_test_agent_crilog_SOURCES = tests/unit/test-agent-crilog.c tests/unit/tap.h
tests_unit_test_agent_crilog_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_crilog_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_restart_SOURCES = tests/unit/test-agent-restart.c tests/unit/tap.h
tests_unit_test_agent_restart_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_podspec_SOURCES = tests/unit/test-agent-podspec.c tests/unit/tap.h
tests_unit_test_agent_podspec_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_podspec_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_volume_SOURCES = tests/unit/test-agent-volume.c tests/unit/tap.h
tests_unit_test_agent_volume_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_volume_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_probe_SOURCES = tests/unit/test-agent-probe.c tests/unit/tap.h
tests_unit_test_agent_probe_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_probe_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_status_SOURCES = tests/unit/test-agent-status.c tests/unit/tap.h
tests_unit_test_agent_status_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_status_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_sync_SOURCES = tests/unit/test-agent-sync.c tests/unit/tap.h
tests_unit_test_agent_sync_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_sync_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_node_SOURCES = tests/unit/test-agent-node.c tests/unit/tap.h
tests_unit_test_agent_node_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_node_LDADD = $(AGENT_LIBS)
tests_unit_test_agent_static_SOURCES = tests/unit/test-agent-static.c tests/unit/tap.h
tests_unit_test_agent_static_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_agent_static_LDADD = $(AGENT_LIBS)
check_PROGRAMS += tests/integration/agent/vol-check
tests_integration_agent_vol_check_SOURCES = tests/integration/agent/vol-check.c
tests_integration_agent_vol_check_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_agent_vol_check_LDADD = $(AGENT_LIBS)
check_PROGRAMS += tests/integration/agent/probe-check
tests_integration_agent_probe_check_SOURCES = tests/integration/agent/probe-check.c
tests_integration_agent_probe_check_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_agent_probe_check_LDADD = $(AGENT_LIBS)
check_PROGRAMS += tests/integration/agent/log-check
tests_integration_agent_log_check_SOURCES = tests/integration/agent/log-check.c
tests_integration_agent_log_check_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_agent_log_check_LDADD = $(AGENT_LIBS)
# --- end node agent ---

# --- node daemon ---
noinst_LIBRARIES += src/node/libnode.a
src_node_libnode_a_SOURCES = \
	src/node/node.h src/node/node-internal.h src/node/node.c src/node/nodeobj.c \
	src/node/pod/sandbox.c src/node/pod/container.c src/node/pod/sync.c \
	src/node/pod/status.c src/node/pod/probe.c src/node/pod/event.c src/node/binder.c src/node/logproxy.c \
	src/cli/node.c src/cli/up.c
src_node_libnode_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(MHD_CFLAGS)
HUSK_COMPONENT_LIBS += src/node/libnode.a
# libnode uses the agent, image and runtime libraries listed before it: list them again.
HUSK_COMPONENT_DEPLIBS += src/master/api/libapi.a src/master/store/libstore.a \
	src/node/agent/libagent.a src/node/image/libimage.a runtime/libhuskrt.a lib/libhusk.a \
	$(SQLITE_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(NETTLE_LIBS) \
	$(ARCHIVE_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) -lpthread
EXTRA_DIST += docs/node.md
# --- end node daemon ---
