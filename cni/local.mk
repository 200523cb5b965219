# cni: the husk-cni plugin and its library (bridge + veth + host-local IPAM, nftables).
noinst_LIBRARIES += cni/libhuskcni.a
cni_libhuskcni_a_SOURCES = \
	cni/cni.h cni/ip.c cni/conf.c cni/result.c cni/ipam.c cni/exec.c \
	cni/netlink.h cni/netlink.c cni/nft.h cni/nft.c cni/plugin.c cni/run.c \
	cni/crossnode.h cni/crossnode.c cni/vxlan-nft.c cni/notrack.c cni/fastpath.c cni/fastpath-remote.c cni/fastpath-nft.c cni/fastpath-nft.h cni/nft-internal.h cni/chain.h cni/chain.c \
	cni/netpol.h cni/netpol-internal.h cni/netpol.c cni/netpol-select.c cni/netpol-nft.c
cni_libhuskcni_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(MNL_CFLAGS) $(NFTNL_CFLAGS)
# Only what the plugin uses (no libyaml): every exec of husk-cni pays for each library loaded.
CNI_LIBS = cni/libhuskcni.a lib/libhusk.a $(JANSSON_LIBS) $(NFTNL_LIBS) $(MNL_LIBS)

bin_PROGRAMS += husk-cni
husk_cni_SOURCES = cni/husk-cni.c
husk_cni_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# jansson and libnftnl linked statically when their archives exist (Debian's -dev packages
# ship them): every pod start and stop execs husk-cni, and each shared library the dynamic
# loader maps costs about a millisecond on a busy node (docs/cni.md, figures).
CNI_A_JANSSON = $(shell $(CC) -print-file-name=libjansson.a)
CNI_A_NFTNL = $(shell $(CC) -print-file-name=libnftnl.a)
husk_cni_LDADD = cni/libhuskcni.a lib/libhusk.a \
	$(if $(filter /%,$(CNI_A_JANSSON)),$(CNI_A_JANSSON),$(JANSSON_LIBS)) \
	$(if $(filter /%,$(CNI_A_NFTNL)),$(CNI_A_NFTNL),$(NFTNL_LIBS)) $(MNL_LIBS)

# Unit tests (no privileges needed).
check_PROGRAMS += tests/unit/test-cni-conf tests/unit/test-cni-ipam tests/unit/test-cni-netpol
TESTS += tests/unit/test-cni-conf tests/unit/test-cni-ipam tests/unit/test-cni-netpol
tests_unit_test_cni_netpol_SOURCES = tests/unit/test-cni-netpol.c tests/unit/tap.h
tests_unit_test_cni_netpol_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_cni_netpol_LDADD = $(CNI_LIBS)
tests_unit_test_cni_conf_SOURCES = tests/unit/test-cni-conf.c tests/unit/tap.h
tests_unit_test_cni_conf_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_cni_conf_LDADD = $(CNI_LIBS)
tests_unit_test_cni_ipam_SOURCES = tests/unit/test-cni-ipam.c tests/unit/tap.h
tests_unit_test_cni_ipam_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_cni_ipam_LDADD = $(CNI_LIBS)

EXTRA_DIST += docs/cni.md

# libFuzzer target (make fuzz; FUZZ_BUILD comes from tests/local.mk). Only the sources the
# decoder needs, so that other lib/ modules' dependencies stay out of it.
CNI_FUZZ_SRCS = $(top_srcdir)/cni/ip.c $(top_srcdir)/cni/conf.c $(top_srcdir)/cni/result.c \
	$(addprefix $(top_srcdir)/lib/,xalloc.c error.c log.c buf.c json.c path.c)
tests/fuzz/fuzz-cni-config: $(top_srcdir)/tests/fuzz/fuzz-cni-config.c $(CNI_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(JANSSON_LIBS)
fuzz: tests/fuzz/fuzz-cni-config
CLEANFILES += tests/fuzz/fuzz-cni-config
# A delegated plugin's stdout (result or error object): the decoder in cni/exec.c.
tests/fuzz/fuzz-cni-result: $(top_srcdir)/tests/fuzz/fuzz-cni-result.c $(CNI_FUZZ_SRCS) \
		$(top_srcdir)/cni/exec.c
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(JANSSON_LIBS)
fuzz: tests/fuzz/fuzz-cni-result
CLEANFILES += tests/fuzz/fuzz-cni-result
CNI_NETPOL_FUZZ_SRCS = $(top_srcdir)/cni/ip.c $(top_srcdir)/cni/netpol.c \
	$(top_srcdir)/cni/netpol-select.c $(addprefix $(top_srcdir)/lib/,xalloc.c error.c log.c buf.c json.c path.c)
tests/fuzz/fuzz-cni-netpol: $(top_srcdir)/tests/fuzz/fuzz-cni-netpol.c $(CNI_NETPOL_FUZZ_SRCS) \
		$(top_srcdir)/cni/netpol.h $(top_srcdir)/cni/netpol-internal.h
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(filter %.c,$^) $(JANSSON_LIBS)
fuzz: tests/fuzz/fuzz-cni-netpol
CLEANFILES += tests/fuzz/fuzz-cni-netpol

# Benchmark helper (tests/bench/cni/run-bench.sh drives it); built by `make check`, never run by it.
check_PROGRAMS += tests/bench/cni/cni-bench
tests_bench_cni_cni_bench_SOURCES = tests/bench/cni/cni-bench.c
tests_bench_cni_cni_bench_LDADD = $(LIBHUSK_LIBS)

# Driver for the cross-node library in tests/integration/cni/t-crossnode.sh.
check_PROGRAMS += tests/integration/cni/cni-route-helper
tests_integration_cni_cni_route_helper_SOURCES = tests/integration/cni/cni-route-helper.c
tests_integration_cni_cni_route_helper_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_cni_cni_route_helper_LDADD = $(CNI_LIBS)

# Driver for the configuration-list runner (cni/chain.c) in tests/integration/cni/t-chain.sh.
check_PROGRAMS += tests/integration/cni/cni-chain-helper
tests_integration_cni_cni_chain_helper_SOURCES = tests/integration/cni/cni-chain-helper.c
tests_integration_cni_cni_chain_helper_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_cni_cni_chain_helper_LDADD = $(CNI_LIBS)

# Driver for the NetworkPolicy compiler and applier in tests/integration/cni/t-netpol.sh.
check_PROGRAMS += tests/integration/cni/cni-netpol-helper
tests_integration_cni_cni_netpol_helper_SOURCES = tests/integration/cni/cni-netpol-helper.c
tests_integration_cni_cni_netpol_helper_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_cni_cni_netpol_helper_LDADD = $(CNI_LIBS)
