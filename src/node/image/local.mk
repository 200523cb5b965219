# src/node/image: images (docs/images.md)

# --- images (src/node/image, owned by the images engineer) ---
noinst_LIBRARIES += src/node/image/libimage.a
src_node_image_libimage_a_SOURCES = \
	src/node/image/image.h \
	src/node/image/ref.c \
	src/node/image/image-internal.h \
	src/node/image/digest.c \
	src/node/image/manifest.c \
	src/node/image/store.c \
	src/node/image/unpack.c \
	src/node/image/auth.c \
	src/node/image/registry.c \
	src/node/image/pull.c \
	src/node/image/archive.c \
	src/node/image/snapshot.c \
	src/node/image/gc.c \
	src/node/image/preload.c \
	src/cli/image.c
src_node_image_libimage_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS) \
	$(CURL_CFLAGS) $(ARCHIVE_CFLAGS)
IMAGE_LIBS = src/node/image/libimage.a $(LIBHUSK_LIBS) $(NETTLE_LIBS) $(CURL_LIBS) $(ARCHIVE_LIBS)
HUSK_COMPONENT_LIBS += src/node/image/libimage.a
HUSK_COMPONENT_DEPLIBS += $(NETTLE_LIBS) $(CURL_LIBS) $(ARCHIVE_LIBS)

IMAGE_UNIT_TESTS = tests/unit/test-image-ref tests/unit/test-image-unpack \
	tests/unit/test-image-manifest tests/unit/test-image-store tests/unit/test-image-snapshot \
	tests/unit/test-image-gc
check_PROGRAMS += $(IMAGE_UNIT_TESTS)
TESTS += $(IMAGE_UNIT_TESTS)
tests_unit_test_image_ref_SOURCES = tests/unit/test-image-ref.c
tests_unit_test_image_ref_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_ref_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_unpack_SOURCES = tests/unit/test-image-unpack.c
tests_unit_test_image_unpack_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_image_unpack_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_manifest_SOURCES = tests/unit/test-image-manifest.c
tests_unit_test_image_manifest_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_manifest_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_store_SOURCES = tests/unit/test-image-store.c
tests_unit_test_image_store_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_store_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_snapshot_SOURCES = tests/unit/test-image-snapshot.c
tests_unit_test_image_snapshot_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_image_snapshot_LDADD = $(IMAGE_LIBS)
tests_unit_test_image_gc_SOURCES = tests/unit/test-image-gc.c
tests_unit_test_image_gc_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_gc_LDADD = $(IMAGE_LIBS)

# libFuzzer targets (make fuzz; FUZZ_BUILD and LIB_FUZZ_SRCS come from tests/local.mk).
IMAGE_FUZZ_SRCS = $(addprefix $(top_srcdir)/src/node/image/,ref.c digest.c manifest.c auth.c unpack.c)
IMAGE_FUZZ_LIBS = $(JANSSON_LIBS) $(YAML_LIBS) $(NETTLE_LIBS) $(ARCHIVE_LIBS) -lpthread
tests/fuzz/fuzz-image-ref: $(top_srcdir)/tests/fuzz/fuzz-image-ref.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-manifest: $(top_srcdir)/tests/fuzz/fuzz-image-manifest.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-layer: $(top_srcdir)/tests/fuzz/fuzz-image-layer.c $(IMAGE_FUZZ_SRCS) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
tests/fuzz/fuzz-image-archive: $(top_srcdir)/tests/fuzz/fuzz-image-archive.c $(IMAGE_FUZZ_SRCS) \
		$(addprefix $(top_srcdir)/src/node/image/,store.c archive.c) $(LIB_FUZZ_SRCS)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) $(JANSSON_CFLAGS) $^ $(IMAGE_FUZZ_LIBS)
fuzz: tests/fuzz/fuzz-image-ref tests/fuzz/fuzz-image-manifest tests/fuzz/fuzz-image-layer \
	tests/fuzz/fuzz-image-archive
CLEANFILES += tests/fuzz/fuzz-image-ref tests/fuzz/fuzz-image-manifest tests/fuzz/fuzz-image-layer \
	tests/fuzz/fuzz-image-archive
# --- end images ---
