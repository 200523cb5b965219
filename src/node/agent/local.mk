# src/node/agent: the node agent library (docs/node-agent.md)

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
