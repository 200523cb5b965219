# src/node/net: node-side networking loops (NetworkPolicy, cross-node routes; docs/cni.md)
# Linked after src/node/libnode.a, which calls it.
noinst_LIBRARIES += src/node/net/libnodenet.a
src_node_net_libnodenet_a_SOURCES = \
	src/node/net/net.h src/node/net/net-internal.h src/node/net/net.c \
	src/node/net/cache.c src/node/net/netpol.c src/node/net/routes.c \
	src/node/net/cnilist.h src/node/net/cnilist.c src/node/net/gso.c
src_node_net_libnodenet_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
HUSK_COMPONENT_LIBS += src/node/net/libnodenet.a
HUSK_COMPONENT_DEPLIBS += cni/libhuskcni.a lib/libhusk.a $(JANSSON_LIBS) $(NFTNL_LIBS) $(MNL_LIBS) \
	$(CURL_LIBS) -lpthread

# node_net_pod_gso in a network namespace of its own (skips unless root).
check_PROGRAMS += tests/unit/test-node-net-gso
TESTS += tests/unit/test-node-net-gso
tests_unit_test_node_net_gso_SOURCES = tests/unit/test-node-net-gso.c tests/unit/tap.h
tests_unit_test_node_net_gso_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_node_net_gso_LDADD = src/node/net/libnodenet.a $(CNI_LIBS)
