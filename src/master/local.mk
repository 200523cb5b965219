# src/master: rules for this component go here (see Makefile.am)

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
	tests/unit/test-store-crash tests/unit/test-store-encode
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
	src/master/api/watch.c src/master/api/write.c src/master/api/delete.c \
	src/master/api/patch-handler.c src/master/api/scale.h src/master/api/sub.c \
	src/master/api/services.c src/master/api/bootstrap.c src/master/api/review.c \
	src/master/api/convert.c \
	src/master/api/proto.h src/master/api/proto.c
API_CFLAGS = $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
src_master_api_libapi_a_CFLAGS = $(AM_CFLAGS) $(API_CFLAGS)
# libapi uses the store: the store library (and what it needs) is listed again after it.
API_LIBS = src/master/api/libapi.a src/master/store/libstore.a $(LIBHUSK_LIBS) \
	$(SQLITE_LIBS) $(CURL_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS)
HUSK_COMPONENT_LIBS += src/master/api/libapi.a
HUSK_COMPONENT_DEPLIBS += src/master/store/libstore.a lib/libhusk.a $(JANSSON_LIBS) \
	$(YAML_LIBS) $(SQLITE_LIBS) $(CURL_LIBS) $(MHD_LIBS) $(GNUTLS_LIBS)
# --- end api server ---

# --- scheduler and controllers ---
noinst_LIBRARIES += src/master/sched/libsched.a
src_master_sched_libsched_a_SOURCES = \
	src/master/sched/sched.h src/master/sched/sched-internal.h \
	src/master/sched/map.c src/master/sched/pod.c src/master/sched/selector.c \
	src/master/sched/cache.c src/master/sched/filter.c src/master/sched/interpod.c \
	src/master/sched/score.c src/master/sched/preempt.c src/master/sched/sched.c \
	src/master/sched/queue.h src/master/sched/queue.c src/master/sched/daemon.c \
	src/master/sched/volume.c
src_master_sched_libsched_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
SCHED_LIBS = src/master/sched/libsched.a $(LIBHUSK_LIBS) -lm

SCHED_UNIT_TESTS = tests/unit/test-sched-quantity tests/unit/test-sched-filter \
	tests/unit/test-sched-score tests/unit/test-sched-queue
check_PROGRAMS += $(SCHED_UNIT_TESTS)
TESTS += $(SCHED_UNIT_TESTS)
tests_unit_test_sched_quantity_SOURCES = tests/unit/test-sched-quantity.c tests/unit/tap.h
tests_unit_test_sched_quantity_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sched_quantity_LDADD = $(SCHED_LIBS)
tests_unit_test_sched_filter_SOURCES = tests/unit/test-sched-filter.c tests/unit/sched-util.h \
	tests/unit/tap.h
tests_unit_test_sched_filter_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sched_filter_LDADD = $(SCHED_LIBS)
tests_unit_test_sched_score_SOURCES = tests/unit/test-sched-score.c tests/unit/sched-util.h \
	tests/unit/tap.h
tests_unit_test_sched_score_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sched_score_LDADD = $(SCHED_LIBS)
tests_unit_test_sched_queue_SOURCES = tests/unit/test-sched-queue.c tests/unit/tap.h
tests_unit_test_sched_queue_LDADD = $(SCHED_LIBS)

# Benchmark (built by `make check`, run by hand): tests/bench/sched/sched-bench
check_PROGRAMS += tests/bench/sched/sched-bench
tests_bench_sched_sched_bench_SOURCES = tests/bench/sched/sched-bench.c
tests_bench_sched_sched_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_bench_sched_sched_bench_LDADD = $(SCHED_LIBS)
noinst_LIBRARIES += src/master/ctrl/libctrllogic.a
src_master_ctrl_libctrllogic_a_SOURCES = src/master/ctrl/logic.h src/master/ctrl/tz-internal.h \
	src/master/ctrl/tz.c src/master/ctrl/cron.c src/master/ctrl/rollout.c \
	src/master/ctrl/podhash.c src/master/ctrl/backoff.c src/master/ctrl/jobpolicy.c \
	src/master/ctrl/depstatus.c src/master/ctrl/podrank.c
src_master_ctrl_libctrllogic_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
CTRL_LOGIC_LIBS = src/master/ctrl/libctrllogic.a $(LIBHUSK_LIBS) -lm

CTRL_UNIT_TESTS = tests/unit/test-ctrl-cron tests/unit/test-ctrl-rollout \
	tests/unit/test-ctrl-depstatus
check_PROGRAMS += $(CTRL_UNIT_TESTS)
TESTS += $(CTRL_UNIT_TESTS)
tests_unit_test_ctrl_cron_SOURCES = tests/unit/test-ctrl-cron.c tests/unit/tap.h
tests_unit_test_ctrl_cron_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_cron_LDADD = $(CTRL_LOGIC_LIBS)
tests_unit_test_ctrl_rollout_SOURCES = tests/unit/test-ctrl-rollout.c tests/unit/tap.h
tests_unit_test_ctrl_rollout_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_rollout_LDADD = $(CTRL_LOGIC_LIBS)
tests_unit_test_ctrl_depstatus_SOURCES = tests/unit/test-ctrl-depstatus.c tests/unit/tap.h
tests_unit_test_ctrl_depstatus_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_depstatus_LDADD = $(CTRL_LOGIC_LIBS)
# libFuzzer targets (make fuzz): a pod through the scheduler, cron schedules.
SCHED_FUZZ_SRCS = $(addprefix $(top_srcdir)/,$(filter %.c,$(src_master_sched_libsched_a_SOURCES)))
CTRL_FUZZ_SRCS = $(addprefix $(top_srcdir)/,$(filter %.c,$(src_master_ctrl_libctrllogic_a_SOURCES)))
FUZZ_TARGETS += tests/fuzz/fuzz-sched-pod tests/fuzz/fuzz-ctrl-cron
tests/fuzz/fuzz-sched-pod: $(top_srcdir)/tests/fuzz/fuzz-sched-pod.c $(SCHED_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(CURL_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) $(CURL_LIBS) -lpthread -lm
tests/fuzz/fuzz-ctrl-cron: $(top_srcdir)/tests/fuzz/fuzz-ctrl-cron.c $(CTRL_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(CURL_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) $(CURL_LIBS) -lpthread
# --- end scheduler and controllers ---
API_UNIT_TESTS = tests/unit/test-api-selector tests/unit/test-api-patch tests/unit/test-api-schema
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
# Benchmark program (tests/bench/api/run drives it); built by `make check`, never run by it.
check_PROGRAMS += tests/bench/api/api-bench
tests_bench_api_api_bench_SOURCES = tests/bench/api/api-bench.c
tests_bench_api_api_bench_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
tests_bench_api_api_bench_LDADD = $(CURL_LIBS) -lpthread
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
# --- scheduler runner ---
# The scheduling loop of `husk master` (src/master/sched/runner.c) and the library it drives.
noinst_LIBRARIES += src/master/sched/libschedrunner.a
src_master_sched_libschedrunner_a_SOURCES = src/master/sched/runner.h src/master/sched/runner.c
src_master_sched_libschedrunner_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
HUSK_COMPONENT_LIBS += src/master/sched/libschedrunner.a src/master/sched/libsched.a
HUSK_COMPONENT_DEPLIBS += $(CURL_LIBS) -lm
# --- end scheduler runner ---
# --- controllers ---
# The controller manager of `husk master` (src/master/ctrl/manager.c) and its controllers.
noinst_LIBRARIES += src/master/ctrl/libctrl.a
src_master_ctrl_libctrl_a_SOURCES = src/master/ctrl/manager.h src/master/ctrl/ctrl-internal.h \
	src/master/ctrl/manager.c src/master/ctrl/replicaset.c src/master/ctrl/deployment.c \
	src/master/ctrl/endpoints.c src/master/ctrl/serviceaccount.c src/master/ctrl/job.c \
	src/master/ctrl/cronjob.c
src_master_ctrl_libctrl_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
HUSK_COMPONENT_LIBS += src/master/ctrl/libctrl.a src/master/ctrl/libctrllogic.a
HUSK_COMPONENT_DEPLIBS += $(CURL_LIBS) -lm
# --- end controllers ---
