# src/master/sched: the scheduler (docs/scheduler.md)

# --- scheduler ---
noinst_LIBRARIES += src/master/sched/libsched.a
src_master_sched_libsched_a_SOURCES = \
	src/master/sched/sched.h src/master/sched/sched-internal.h \
	src/master/sched/map.c src/master/sched/pod.c src/master/sched/selector.c \
	src/master/sched/cache.c src/master/sched/filter.c src/master/sched/interpod.c \
	src/master/sched/score.c src/master/sched/preempt.c src/master/sched/sched.c \
	src/master/sched/queue.h src/master/sched/queue.c src/master/sched/daemon.c \
	src/master/sched/volume.c src/master/sched/intern.h src/master/sched/intern.c
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
# Hash-consing of the cached JSON trees (issue 6, master memory).
check_PROGRAMS += tests/unit/test-sched-intern
TESTS += tests/unit/test-sched-intern
tests_unit_test_sched_intern_SOURCES = tests/unit/test-sched-intern.c tests/unit/tap.h
tests_unit_test_sched_intern_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sched_intern_LDADD = $(SCHED_LIBS) -lpthread

# Benchmark (built by `make check`, run by hand): tests/bench/sched/sched-bench
check_PROGRAMS += tests/bench/sched/sched-bench
tests_bench_sched_sched_bench_SOURCES = tests/bench/sched/sched-bench.c
tests_bench_sched_sched_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_bench_sched_sched_bench_LDADD = $(SCHED_LIBS)
# libFuzzer targets (make fuzz): a pod through the scheduler, cron schedules.
SCHED_FUZZ_SRCS = $(addprefix $(top_srcdir)/,$(filter %.c,$(src_master_sched_libsched_a_SOURCES)))
CTRL_FUZZ_SRCS = $(addprefix $(top_srcdir)/,$(filter %.c,$(src_master_ctrl_libctrllogic_a_SOURCES)))
FUZZ_TARGETS += tests/fuzz/fuzz-sched-pod tests/fuzz/fuzz-ctrl-cron
tests/fuzz/fuzz-sched-pod: $(top_srcdir)/tests/fuzz/fuzz-sched-pod.c $(SCHED_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(CURL_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) $(CURL_LIBS) -lpthread -lm
tests/fuzz/fuzz-ctrl-cron: $(top_srcdir)/tests/fuzz/fuzz-ctrl-cron.c $(CTRL_FUZZ_SRCS) \
  $(top_srcdir)/src/master/sched/intern.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(CURL_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) $(CURL_LIBS) -lpthread
# --- end scheduler ---

# --- scheduler runner ---
# The scheduling loop of `husk master` (src/master/sched/runner.c) and the library it drives.
noinst_LIBRARIES += src/master/sched/libschedrunner.a
src_master_sched_libschedrunner_a_SOURCES = src/master/sched/runner.h src/master/sched/runner.c
src_master_sched_libschedrunner_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
HUSK_COMPONENT_LIBS += src/master/sched/libschedrunner.a src/master/sched/libsched.a
HUSK_COMPONENT_DEPLIBS += $(CURL_LIBS) -lm
# --- end scheduler runner ---
