# src/master/api: the API server (docs/api.md)

# --- api server ---
noinst_LIBRARIES += src/master/api/libapi.a
src_master_api_libapi_a_SOURCES = \
	src/master/master.c \
	src/master/api/api.h src/master/api/api-internal.h \
	src/master/api/server.c src/master/api/reply.c src/master/api/status.c \
	src/master/api/tls.h src/master/api/tls.c src/master/api/auth.h src/master/api/auth.c \
	src/master/api/discovery.c src/master/api/openapi.c \
	src/master/api/registry.h src/master/api/registry.c \
	src/master/api/schema.h src/master/api/schema.c \
	src/master/api/schema/meta.c src/master/api/schema/core.c \
	src/master/api/schema/apps.c src/master/api/schema/other.c \
	src/master/api/defaults.h src/master/api/defaults.c src/master/api/validate.c \
	src/master/api/table.h src/master/api/table.c \
	src/master/api/selector.h src/master/api/selector.c \
	src/master/api/patch.h src/master/api/patch.c \
	src/master/api/handlers.h src/master/api/resource.c src/master/api/read.c \
	src/master/api/getcache.c src/master/api/getcache.h \
	src/master/api/cork.c src/master/api/cork.h \
	src/master/api/watch.c src/master/api/write.c src/master/api/delete.c \
	src/master/api/patch-handler.c src/master/api/scale.h src/master/api/sub.c \
	src/master/api/services.c src/master/api/bootstrap.c src/master/api/review.c \
	src/master/api/convert.c src/master/api/admission.h src/master/api/admission.c \
	src/master/api/proto.h src/master/api/proto.c \
	src/master/api/fieldset.h src/master/api/fieldset.c \
	src/master/api/managed.h src/master/api/managed.c \
	src/master/api/pods.h src/master/api/pods.c \
	src/master/api/token.h src/master/api/token.c \
	src/master/api/namespaces.h src/master/api/namespaces.c \
	src/master/api/slim.h src/master/api/slim.c \
	src/master/api/local.h src/master/api/local.c
API_CFLAGS = $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
src_master_api_libapi_a_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
# libapi uses the store: the store library (and what it needs) is listed again after it.
# admission.c uses the quota, LimitRange and toleration logic of libctrllogic.
API_LIBS = src/master/api/libapi.a src/master/ctrl/libctrllogic.a src/master/store/libstore.a \
	$(LIBHUSK_LIBS) \
	$(SQLITE_LIBS) $(CURL_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS)
HUSK_COMPONENT_LIBS += src/master/api/libapi.a
HUSK_COMPONENT_DEPLIBS += src/master/store/libstore.a lib/libhusk.a $(JANSSON_LIBS) \
	$(YAML_LIBS) $(SQLITE_LIBS) $(CURL_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS)
# --- end api server ---

# --- api server unit tests ---
API_UNIT_TESTS = tests/unit/test-api-selector tests/unit/test-api-patch tests/unit/test-api-schema \
	tests/unit/test-api-fieldset tests/unit/test-api-token tests/unit/test-api-slim \
	tests/unit/test-api-getcache
check_PROGRAMS += $(API_UNIT_TESTS)
TESTS += $(API_UNIT_TESTS)
tests_unit_test_api_selector_SOURCES = tests/unit/test-api-selector.c tests/unit/tap.h
tests_unit_test_api_selector_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_selector_LDADD = $(API_LIBS)
tests_unit_test_api_patch_SOURCES = tests/unit/test-api-patch.c tests/unit/tap.h
tests_unit_test_api_patch_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_patch_LDADD = $(API_LIBS)
tests_unit_test_api_schema_SOURCES = tests/unit/test-api-schema.c tests/unit/tap.h
tests_unit_test_api_schema_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_schema_LDADD = $(API_LIBS)
tests_unit_test_api_fieldset_SOURCES = tests/unit/test-api-fieldset.c tests/unit/tap.h
tests_unit_test_api_fieldset_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_fieldset_LDADD = $(API_LIBS)
tests_unit_test_api_token_SOURCES = tests/unit/test-api-token.c tests/unit/tap.h
tests_unit_test_api_token_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_token_LDADD = $(API_LIBS)
tests_unit_test_api_slim_SOURCES = tests/unit/test-api-slim.c tests/unit/tap.h
tests_unit_test_api_slim_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
tests_unit_test_api_slim_LDADD = $(API_LIBS)
tests_unit_test_api_getcache_SOURCES = tests/unit/test-api-getcache.c tests/unit/tap.h
tests_unit_test_api_getcache_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_test_api_getcache_LDADD = $(API_LIBS)
# Benchmark program (tests/bench/api/run drives it); built by `make check`, never run by it.
check_PROGRAMS += tests/bench/api/api-bench
tests_bench_api_api_bench_SOURCES = tests/bench/api/api-bench.c tests/bench/api/getloop.c \
	tests/bench/api/getloop.h
tests_bench_api_api_bench_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS)
tests_bench_api_api_bench_LDADD = $(CURL_LIBS) $(GNUTLS_LIBS) -lpthread
# libFuzzer targets (make fuzz; FUZZ_BUILD and LIB_FUZZ_SRCS come from tests/local.mk).
API_SCHEMA_FUZZ_SRCS = $(addprefix $(top_srcdir)/src/master/api/,patch.c schema.c \
	schema/meta.c schema/core.c schema/apps.c schema/other.c)
tests/fuzz/fuzz-api-selector: $(top_srcdir)/tests/fuzz/fuzz-api-selector.c \
		$(top_srcdir)/src/master/api/selector.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread
tests/fuzz/fuzz-api-patch: $(top_srcdir)/tests/fuzz/fuzz-api-patch.c $(API_SCHEMA_FUZZ_SRCS) \
		$(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread
tests/fuzz/fuzz-api-proto: $(top_srcdir)/tests/fuzz/fuzz-api-proto.c \
		$(top_srcdir)/src/master/api/proto.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(GNUTLS_CFLAGS) $^ $(JANSSON_LIBS) \
		$(YAML_LIBS) $(GNUTLS_LIBS) -lpthread
fuzz: tests/fuzz/fuzz-api-selector tests/fuzz/fuzz-api-patch tests/fuzz/fuzz-api-proto
CLEANFILES += tests/fuzz/fuzz-api-selector tests/fuzz/fuzz-api-patch tests/fuzz/fuzz-api-proto
# --- end api server (unit tests) ---
