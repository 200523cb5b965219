# src/node: the node daemon (docs/node.md)

# --- node daemon ---
noinst_LIBRARIES += src/node/libnode.a
src_node_libnode_a_SOURCES = \
	src/node/node.h src/node/node-internal.h src/node/node.c src/node/nodeobj.c \
	src/node/pod/sandbox.c src/node/pod/container.c src/node/pod/sync.c \
	src/node/pod/status.c src/node/pod/probe.c src/node/pod/hooks.c src/node/pod/event.c src/node/pod/adopt.c \
	src/node/pod/job.c src/node/pod/apiq.c src/node/binder.c src/node/logproxy.c \
	src/node/pod/extras.h src/node/pod/extras.c src/node/pod/staticpods.c src/node/pod/imagegc.c \
	src/node/pod/evict.c src/node/pod/stdin.c src/node/pod/extras-parse.c \
	src/node/pod/seccontext.h src/node/pod/seccontext.c src/node/pod/sysctl.h src/node/pod/sysctl.c \
	src/node/pod/podcgroup.c \
	src/cli/nodeflags.h src/cli/node.c src/cli/up.c src/cli/node-image-helper.c
src_node_libnode_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(MHD_CFLAGS)
HUSK_COMPONENT_LIBS += src/node/libnode.a
# libnode uses the agent, image and runtime libraries listed before it: list them again.
HUSK_COMPONENT_DEPLIBS += src/master/api/libapi.a src/master/store/libstore.a \
	src/node/agent/libagent.a src/node/image/libimage.a runtime/libhuskrt.a lib/libhusk.a \
	$(SQLITE_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(NETTLE_LIBS) \
	$(ARCHIVE_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) -lpthread
EXTRA_DIST += docs/node.md
# flag parsers of static pods, image GC and eviction (pod/extras-parse.c, pure)
check_PROGRAMS += tests/unit/test-node-extras
TESTS += tests/unit/test-node-extras
tests_unit_test_node_extras_SOURCES = tests/unit/test-node-extras.c tests/unit/tap.h \
	src/node/pod/extras-parse.c
tests_unit_test_node_extras_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
tests_unit_test_node_extras_LDADD = $(LIBHUSK_LIBS)
# sysctl names and --allowed-unsafe-sysctls (pod/sysctl.c, pure)
check_PROGRAMS += tests/unit/test-node-sysctl
TESTS += tests/unit/test-node-sysctl
tests_unit_test_node_sysctl_SOURCES = tests/unit/test-node-sysctl.c tests/unit/tap.h \
	src/node/pod/sysctl.c
tests_unit_test_node_sysctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_test_node_sysctl_LDADD = $(HUSKRT_LIBS)
# --- end node daemon ---

# husk-node: the node agent alone (src/cli/husk-node.c), which `husk node` execs when it is
# installed next to husk. The same libraries as husk, but only the objects the node reaches
# are taken from them and --as-needed drops the shared libraries it does not call: SQLite,
# and libarchive, whose users (layer unpacking, archive import) husk-node-image.c replaces
# by running `husk node --image-helper`.
bin_PROGRAMS += husk-node
husk_node_SOURCES = src/cli/husk-node.c src/cli/husk-node-image.c
husk_node_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
husk_node_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
husk_node_LDADD = $(HUSK_COMPONENT_LIBS) $(LIBHUSK_LIBS) $(HUSK_COMPONENT_DEPLIBS)

# husk-shim: holds a container's stdio pipes and reports its exit status across agent
# restarts (src/node/pod/shim.c). Static libc, no other library: about 44 KB of private
# memory per container (the file pages are shared by every shim).
bin_PROGRAMS += husk-shim
husk_shim_SOURCES = src/node/pod/shim.c
husk_shim_CFLAGS = $(AM_CFLAGS) -Os
husk_shim_LDFLAGS = -static -s
husk_shim_LDADD =
