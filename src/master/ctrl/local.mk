# src/master/ctrl: the controllers (docs/scheduler.md)

# --- controller logic (pure functions, unit tested) ---
noinst_LIBRARIES += src/master/ctrl/libctrllogic.a
src_master_ctrl_libctrllogic_a_SOURCES = src/master/ctrl/logic.h src/master/ctrl/tz-internal.h \
	src/master/ctrl/tz.c src/master/ctrl/cron.c src/master/ctrl/rollout.c \
	src/master/ctrl/podhash.c src/master/ctrl/backoff.c src/master/ctrl/jobpolicy.c \
	src/master/ctrl/depstatus.c src/master/ctrl/podrank.c
src_master_ctrl_libctrllogic_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# DaemonSet placement (dsnode.c, in libctrl) asks the scheduler library (sched_daemon_fits).
CTRL_LOGIC_LIBS = src/master/ctrl/libctrllogic.a src/master/sched/libsched.a $(LIBHUSK_LIBS) -lm

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
# DaemonSet placement and rolling update arithmetic; StatefulSet ordering.
src_master_ctrl_libctrllogic_a_SOURCES += src/master/ctrl/dsroll.c \
	src/master/ctrl/jobindex.c
CTRL_UNIT_TESTS2 = tests/unit/test-ctrl-daemonset tests/unit/test-ctrl-jobindex
check_PROGRAMS += $(CTRL_UNIT_TESTS2)
TESTS += $(CTRL_UNIT_TESTS2)
tests_unit_test_ctrl_daemonset_SOURCES = tests/unit/test-ctrl-daemonset.c tests/unit/tap.h
tests_unit_test_ctrl_daemonset_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_daemonset_LDADD = src/master/ctrl/libctrl.a $(CTRL_LOGIC_LIBS)
tests_unit_test_ctrl_jobindex_SOURCES = tests/unit/test-ctrl-jobindex.c tests/unit/tap.h
tests_unit_test_ctrl_jobindex_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_jobindex_LDADD = $(CTRL_LOGIC_LIBS)
# The controllers' shared informer caches (cache.c: pure, no HTTP).
src_master_ctrl_libctrllogic_a_SOURCES += src/master/ctrl/cache.h src/master/ctrl/cache.c
check_PROGRAMS += tests/unit/test-ctrl-cache
TESTS += tests/unit/test-ctrl-cache
tests_unit_test_ctrl_cache_SOURCES = tests/unit/test-ctrl-cache.c tests/unit/tap.h
tests_unit_test_ctrl_cache_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_cache_LDADD = $(CTRL_LOGIC_LIBS) -lpthread
# --- end controller logic ---

# --- controllers ---
# The controller manager of `husk master` (src/master/ctrl/manager.c) and its controllers.
noinst_LIBRARIES += src/master/ctrl/libctrl.a
src_master_ctrl_libctrl_a_SOURCES = src/master/ctrl/manager.h src/master/ctrl/ctrl-internal.h \
	src/master/ctrl/manager.c src/master/ctrl/replicaset.c src/master/ctrl/deployment.c \
	src/master/ctrl/endpoints.c src/master/ctrl/serviceaccount.c src/master/ctrl/job.c \
	src/master/ctrl/cronjob.c src/master/ctrl/objects.c src/master/ctrl/revision.c \
	src/master/ctrl/daemonset.c src/master/ctrl/statefulset.c src/master/ctrl/gc.c \
	src/master/ctrl/informer.c
# DaemonSet placement: the scheduler's predicates (libsched), so not in libctrllogic, whose
# sources the cron fuzz target compiles alone.
src_master_ctrl_libctrl_a_SOURCES += src/master/ctrl/dsnode.c
src_master_ctrl_libctrl_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
HUSK_COMPONENT_LIBS += src/master/ctrl/libctrl.a src/master/ctrl/libctrllogic.a src/master/sched/libsched.a
HUSK_COMPONENT_DEPLIBS += $(CURL_LIBS) -lm
# The informers against a scripted API server.
check_PROGRAMS += tests/unit/test-ctrl-informer
TESTS += tests/unit/test-ctrl-informer
tests_unit_test_ctrl_informer_SOURCES = tests/unit/test-ctrl-informer.c tests/unit/tap.h tests/unit/script-http.h
tests_unit_test_ctrl_informer_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS)
tests_unit_test_ctrl_informer_LDADD = src/master/ctrl/libctrl.a $(CTRL_LOGIC_LIBS) $(CURL_LIBS) \
	$(MHD_LIBS) -lpthread
# --- end controllers ---

# --- cluster controllers (docs/controllers-cluster.md) ---
# Quota, LimitRange, taint and PV matching logic (also linked by the API server's admission).
src_master_ctrl_libctrllogic_a_SOURCES += src/master/ctrl/cluster-logic.h src/master/ctrl/quota.c \
	src/master/ctrl/limitrange.c src/master/ctrl/taints.c src/master/ctrl/pvmatch.c
# Node lifecycle, PV binder, local-path provisioner, ResourceQuota status, leader election.
src_master_ctrl_libctrl_a_SOURCES += src/master/ctrl/cluster.h src/master/ctrl/nodelifecycle.c \
	src/master/ctrl/pv.c src/master/ctrl/localpath.c src/master/ctrl/quotactl.c \
	src/master/ctrl/leader.h src/master/ctrl/leader.c src/master/ctrl/nodeipam.c
check_PROGRAMS += tests/unit/test-ctrl-cluster
TESTS += tests/unit/test-ctrl-cluster
tests_unit_test_ctrl_cluster_SOURCES = tests/unit/test-ctrl-cluster.c tests/unit/tap.h
tests_unit_test_ctrl_cluster_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_ctrl_cluster_LDADD = $(CTRL_LOGIC_LIBS)
# --- end cluster controllers ---
