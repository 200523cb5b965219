# Test lanes beyond `make check` live in tests/run (integration, vm); their files ship in the tarball.
EXTRA_DIST += tests/run tests/lib tests/integration tests/vm tests/bench tests/fuzz tests/unit/tap.h

# libFuzzer targets (clang only, outside the normal build): `make fuzz`, then run e.g.
# tests/fuzz/fuzz-yaml -max_total_time=60. Components append to FUZZ_TARGETS and give each
# target a rule using FUZZ_BUILD.
FUZZ_CC = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir) -I$(top_builddir) -include config.h -D_GNU_SOURCE
FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_FLAGS) -o $@
LIB_FUZZ_SRCS = $(filter %.c,$(addprefix $(top_srcdir)/,$(lib_libhusk_a_SOURCES)))

FUZZ_TARGETS += tests/fuzz/fuzz-yaml tests/fuzz/fuzz-json
tests/fuzz/fuzz-yaml: $(top_srcdir)/tests/fuzz/fuzz-yaml.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread
tests/fuzz/fuzz-json: $(top_srcdir)/tests/fuzz/fuzz-json.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread

fuzz: $(FUZZ_TARGETS)
.PHONY: fuzz
CLEANFILES += $(FUZZ_TARGETS)
