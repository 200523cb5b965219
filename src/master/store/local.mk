# src/master/store: the state store (docs/store.md)

# ---- store (src/master/store, docs/store.md) ----
noinst_LIBRARIES += src/master/store/libstore.a
src_master_store_libstore_a_SOURCES = \
	src/master/store/store.h src/master/store/store-internal.h \
	src/master/store/store.c src/master/store/encode.c src/master/store/watch.c \
	src/master/store/sqlite.c src/master/store/etcd.c
src_master_store_libstore_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(CURL_CFLAGS)
STORE_LIBS = src/master/store/libstore.a $(LIBHUSK_LIBS) $(SQLITE_LIBS) $(CURL_LIBS)
HUSK_COMPONENT_LIBS += src/master/store/libstore.a
HUSK_COMPONENT_DEPLIBS += $(SQLITE_LIBS) $(CURL_LIBS)

STORE_UNIT_TESTS = tests/unit/test-store-basic tests/unit/test-store-watch \
	tests/unit/test-store-crash tests/unit/test-store-encode tests/unit/test-store-wal \
	tests/unit/test-store-ring
check_PROGRAMS += $(STORE_UNIT_TESTS)
TESTS += $(STORE_UNIT_TESTS)
tests_unit_test_store_basic_SOURCES = tests/unit/test-store-basic.c tests/unit/tap.h
tests_unit_test_store_basic_LDADD = $(STORE_LIBS)
tests_unit_test_store_watch_SOURCES = tests/unit/test-store-watch.c tests/unit/tap.h
tests_unit_test_store_watch_LDADD = $(STORE_LIBS)
tests_unit_test_store_crash_SOURCES = tests/unit/test-store-crash.c tests/unit/tap.h
tests_unit_test_store_crash_LDADD = $(STORE_LIBS)
tests_unit_test_store_encode_SOURCES = tests/unit/test-store-encode.c tests/unit/tap.h
tests_unit_test_store_encode_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_store_encode_LDADD = $(STORE_LIBS)
tests_unit_test_store_wal_SOURCES = tests/unit/test-store-wal.c tests/unit/tap.h
tests_unit_test_store_wal_LDADD = $(STORE_LIBS)
tests_unit_test_store_ring_SOURCES = tests/unit/test-store-ring.c tests/unit/tap.h
tests_unit_test_store_ring_LDADD = $(STORE_LIBS)

# Driven by tests/integration/store/t-etcd.sh against a real etcd cluster.
check_PROGRAMS += tests/integration/store/etcd-check
tests_integration_store_etcd_check_SOURCES = tests/integration/store/etcd-check.c
tests_integration_store_etcd_check_LDADD = $(STORE_LIBS)

# Benchmark program (tests/bench/store/run drives it); built by `make check`, never run by it.
check_PROGRAMS += tests/bench/store/store-bench
tests_bench_store_store_bench_SOURCES = tests/bench/store/store-bench.c
tests_bench_store_store_bench_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
tests_bench_store_store_bench_LDADD = $(STORE_LIBS)
# ---- end store ----
