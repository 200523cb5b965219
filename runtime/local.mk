# runtime: the OCI runtime library, husk-runtime (runc's command line) and husk-pause.
noinst_LIBRARIES += runtime/libhuskrt.a
runtime_libhuskrt_a_SOURCES = \
	runtime/runtime.h runtime/internal.h runtime/init.h \
	runtime/spec.c runtime/spec-schema.c runtime/defaults.c \
	runtime/namespaces.c runtime/mount.c runtime/devices.c runtime/devices-bpf.c \
	runtime/process.c runtime/caps.c runtime/seccomp.c runtime/seccomp-default.c \
	runtime/cgroup.c runtime/hooks.c runtime/state.c runtime/sync.c \
	runtime/terminal.c runtime/fds.c runtime/util.c runtime/init.c runtime/create.c \
	runtime/lifecycle.c runtime/exec.c
runtime_libhuskrt_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)
HUSKRT_LIBS = runtime/libhuskrt.a $(LIBHUSK_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS)

HUSK_COMPONENT_LIBS += runtime/libhuskrt.a
HUSK_COMPONENT_DEPLIBS += $(SECCOMP_LIBS) $(CAP_LIBS)

bin_PROGRAMS += husk-runtime
husk_runtime_SOURCES = runtime/cli/main.c runtime/cli/cli.h runtime/cli/create.c \
	runtime/cli/exec.c runtime/cli/manage.c runtime/cli/info.c runtime/cli/tty.c runtime/cli/log.c
husk_runtime_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
husk_runtime_LDADD = $(HUSKRT_LIBS)
# Static: exec of a dynamic binary costs the dynamic loader several ms per call here, and
# husk-runtime is exec'd once per container operation. (Debian's -dev packages ship the
# .a files; sanitizers need the dynamic runtime.)
if ASAN
husk_runtime_LDFLAGS = $(AM_LDFLAGS)
else
husk_runtime_LDFLAGS = $(AM_LDFLAGS) -static
endif

# husk-pause: static and freestanding (no libc), a few KB.
bin_PROGRAMS += husk-pause
husk_pause_SOURCES = runtime/pause/pause.c
husk_pause_CFLAGS = -Os -Wall -Wextra -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-pie -fcf-protection=none
husk_pause_LDFLAGS = -static -nostdlib -no-pie -s -Wl,--gc-sections -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,norelro

check_PROGRAMS += tests/unit/test-runtime-spec tests/unit/test-runtime-seccomp \
	tests/unit/test-runtime-cgroup tests/unit/test-runtime-fds
TESTS += tests/unit/test-runtime-spec tests/unit/test-runtime-seccomp tests/unit/test-runtime-cgroup \
	tests/unit/test-runtime-fds
tests_unit_test_runtime_fds_SOURCES = tests/unit/test-runtime-fds.c tests/unit/tap.h
tests_unit_test_runtime_fds_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_test_runtime_fds_LDADD = $(HUSKRT_LIBS)
tests_unit_test_runtime_cgroup_SOURCES = tests/unit/test-runtime-cgroup.c tests/unit/tap.h
tests_unit_test_runtime_cgroup_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_test_runtime_cgroup_LDADD = $(HUSKRT_LIBS)
tests_unit_test_runtime_spec_SOURCES = tests/unit/test-runtime-spec.c tests/unit/tap.h
tests_unit_test_runtime_spec_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_runtime_spec_LDADD = $(HUSKRT_LIBS)
tests_unit_test_runtime_seccomp_SOURCES = tests/unit/test-runtime-seccomp.c tests/unit/tap.h
tests_unit_test_runtime_seccomp_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_test_runtime_seccomp_LDADD = $(HUSKRT_LIBS)

# Driver for tests/integration/runtime/t-stdio.sh (containers created from several threads).
check_PROGRAMS += tests/integration/runtime/rt-stdio-helper
tests_integration_runtime_rt_stdio_helper_SOURCES = tests/integration/runtime/rt-stdio-helper.c
tests_integration_runtime_rt_stdio_helper_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_runtime_rt_stdio_helper_LDADD = $(HUSKRT_LIBS)

# Integration tests (tests/run): tests/integration/runtime/t-*.sh; VM lane: tests/vm/t-runtime-*.sh;
# benchmark: tests/bench/runtime/run-bench.sh; fuzz: tests/fuzz/fuzz-oci-config.c (make fuzz).

# libFuzzer target (make fuzz; FUZZ_BUILD and LIB_FUZZ_SRCS come from tests/local.mk).
RT_FUZZ_SRCS = $(filter %.c,$(addprefix $(top_srcdir)/,$(runtime_libhuskrt_a_SOURCES)))
tests/fuzz/fuzz-oci-config: $(top_srcdir)/tests/fuzz/fuzz-oci-config.c $(RT_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS) $^ $(JANSSON_LIBS) \
		$(YAML_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) -lpthread
fuzz: tests/fuzz/fuzz-oci-config
CLEANFILES += tests/fuzz/fuzz-oci-config
