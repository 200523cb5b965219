# Test lanes beyond `make check` live in tests/run (integration, vm); their files ship in the tarball.
EXTRA_DIST += tests/run tests/lib tests/integration tests/vm tests/bench tests/fuzz tests/unit/tap.h

# libFuzzer targets (clang only, outside the normal build): `make fuzz`, then run e.g.
# tests/fuzz/fuzz-yaml -max_total_time=60. Components append to FUZZ_TARGETS and give each
# target a rule using FUZZ_BUILD.
FUZZ_CC = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir) -I$(top_builddir) -include config.h -D_GNU_SOURCE
FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_FLAGS) -o $@
# lib/ compiled once for fuzzing into an archive, so a target links only the objects it
# uses (and needs no libcurl unless it uses lib/kclient.c). Rules list it after their sources.
LIB_FUZZ_C = $(filter %.c,$(addprefix $(top_srcdir)/,$(lib_libhusk_a_SOURCES)))
LIB_FUZZ_SRCS = tests/fuzz/libhusk-fuzz.a
tests/fuzz/libhusk-fuzz.a: $(LIB_FUZZ_C)
	@rm -rf tests/fuzz/lib-objs && mkdir -p tests/fuzz/lib-objs
	@for f in $(LIB_FUZZ_C); do \
	  $(FUZZ_CC) $(FUZZ_FLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(CURL_CFLAGS) -c $$f \
	    -o tests/fuzz/lib-objs/$$(basename $$f .c).o || exit 1; done
	$(AM_V_AR)rm -f $@ && $(AR) cr $@ tests/fuzz/lib-objs/*.o

FUZZ_TARGETS += tests/fuzz/fuzz-yaml tests/fuzz/fuzz-json
tests/fuzz/fuzz-yaml: $(top_srcdir)/tests/fuzz/fuzz-yaml.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread
tests/fuzz/fuzz-json: $(top_srcdir)/tests/fuzz/fuzz-json.c $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $^ $(JANSSON_LIBS) $(YAML_LIBS) -lpthread

fuzz: $(FUZZ_TARGETS)
.PHONY: fuzz
CLEANFILES += $(FUZZ_TARGETS) tests/fuzz/libhusk-fuzz.a tests/fuzz/lib-objs/*.o
