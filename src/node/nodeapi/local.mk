# src/node/nodeapi: the node API server (logs, exec, attach, port-forward; docs/node.md)
# Linked after src/node/libnode.a, which calls it.

# --- node api ---
noinst_LIBRARIES += src/node/nodeapi/libnodeapi.a
src_node_nodeapi_libnodeapi_a_SOURCES = \
	src/node/nodeapi/nodeapi.h src/node/nodeapi/nodeapi-internal.h src/node/nodeapi/reply.h \
	src/node/nodeapi/server.c src/node/nodeapi/agent.c src/node/nodeapi/lookup.c src/node/nodeapi/logs.c \
	src/node/nodeapi/stream.c src/node/nodeapi/exec.c src/node/nodeapi/attach.c src/node/nodeapi/portforward.c \
	src/node/nodeapi/ws.h src/node/nodeapi/ws.c src/node/nodeapi/spdy.h src/node/nodeapi/spdy.c
src_node_nodeapi_libnodeapi_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
HUSK_COMPONENT_LIBS += src/node/nodeapi/libnodeapi.a
# zlib (SPDY header blocks) is linked directly: every Debian system has libz (zlib1g-dev).
# libnodeapi uses the API server's certificate maker, the agent's log reader and the runtime.
HUSK_COMPONENT_DEPLIBS += src/master/api/libapi.a src/node/agent/libagent.a runtime/libhuskrt.a \
	lib/libhusk.a $(MHD_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(NETTLE_LIBS) $(SECCOMP_LIBS) \
	$(CAP_LIBS) -lz -lpthread

# unit tests
check_PROGRAMS += tests/unit/test-nodeapi-ws tests/unit/test-nodeapi-spdy
TESTS += tests/unit/test-nodeapi-ws tests/unit/test-nodeapi-spdy
tests_unit_test_nodeapi_ws_SOURCES = tests/unit/test-nodeapi-ws.c src/node/nodeapi/ws.c
tests_unit_test_nodeapi_ws_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_nodeapi_spdy_SOURCES = tests/unit/test-nodeapi-spdy.c src/node/nodeapi/spdy.c
tests_unit_test_nodeapi_spdy_LDADD = $(LIBHUSK_LIBS) -lz

# libFuzzer targets (make fuzz; FUZZ_BUILD and LIB_FUZZ_SRCS come from tests/local.mk).
tests/fuzz/fuzz-node-ws: $(top_srcdir)/tests/fuzz/fuzz-node-ws.c \
		$(top_srcdir)/src/node/nodeapi/ws.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) $(NETTLE_LIBS) -lpthread
tests/fuzz/fuzz-node-spdy: $(top_srcdir)/tests/fuzz/fuzz-node-spdy.c \
		$(top_srcdir)/src/node/nodeapi/spdy.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lz -lpthread
fuzz: tests/fuzz/fuzz-node-ws tests/fuzz/fuzz-node-spdy
CLEANFILES += tests/fuzz/fuzz-node-ws tests/fuzz/fuzz-node-spdy
# --- end node api ---

# The master's side of the node API lives in the API server's library (registered here so
# that the API server's fragment stays its owner's).
src_master_api_libapi_a_SOURCES += src/master/api/nodeproxy.h src/master/api/nodeproxy.c
