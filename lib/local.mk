noinst_LIBRARIES += lib/libhusk.a
lib_libhusk_a_SOURCES = \
	lib/util.h lib/xalloc.c \
	lib/error.h lib/error.c \
	lib/log.h lib/log.c \
	lib/buf.h lib/buf.c \
	lib/json.h lib/json.c \
	lib/yaml.h lib/yaml.c \
	lib/path.h lib/path.c \
	lib/quantity.h lib/quantity.c \
	lib/base64.h lib/base64.c
lib_libhusk_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(NETTLE_CFLAGS) $(GNUTLS_CFLAGS)
LIBHUSK_LIBS = lib/libhusk.a $(JANSSON_LIBS) $(YAML_LIBS) $(NETTLE_LIBS) -lpthread

check_PROGRAMS += tests/unit/test-error tests/unit/test-log tests/unit/test-buf \
	tests/unit/test-json tests/unit/test-yaml tests/unit/test-path tests/unit/test-base64
TESTS += tests/unit/test-error tests/unit/test-log tests/unit/test-buf \
	tests/unit/test-json tests/unit/test-yaml tests/unit/test-path tests/unit/test-base64
tests_unit_test_error_SOURCES = tests/unit/test-error.c tests/unit/tap.h
tests_unit_test_error_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_log_SOURCES = tests/unit/test-log.c tests/unit/tap.h
tests_unit_test_log_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_buf_SOURCES = tests/unit/test-buf.c tests/unit/tap.h
tests_unit_test_buf_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_json_SOURCES = tests/unit/test-json.c tests/unit/tap.h
tests_unit_test_json_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_json_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_yaml_SOURCES = tests/unit/test-yaml.c tests/unit/tap.h
tests_unit_test_yaml_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_yaml_LDADD = $(LIBHUSK_LIBS)
tests_unit_test_path_SOURCES = tests/unit/test-path.c tests/unit/tap.h
tests_unit_test_path_LDADD = $(LIBHUSK_LIBS)
# Kubernetes API client (lib/kclient.h): users link $(CURL_LIBS) too.
lib_libhusk_a_SOURCES += lib/kclient.h lib/kclient.c
check_PROGRAMS += tests/unit/test-kclient
TESTS += tests/unit/test-kclient
tests_unit_test_kclient_SOURCES = tests/unit/test-kclient.c tests/unit/tap.h tests/unit/script-http.h
tests_unit_test_kclient_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS)
tests_unit_test_kclient_LDADD = $(LIBHUSK_LIBS) $(CURL_LIBS) $(MHD_LIBS)
tests_unit_test_base64_SOURCES = tests/unit/test-base64.c tests/unit/tap.h
tests_unit_test_base64_LDADD = $(LIBHUSK_LIBS)
# Socket/TLS byte loops of upgraded connections (lib/sockio.h): users link $(GNUTLS_LIBS) too.
lib_libhusk_a_SOURCES += lib/sockio.h lib/sockio.c
check_PROGRAMS += tests/unit/test-sockio
TESTS += tests/unit/test-sockio
tests_unit_test_sockio_SOURCES = tests/unit/test-sockio.c tests/unit/tap.h
tests_unit_test_sockio_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tests_unit_test_sockio_LDADD = $(LIBHUSK_LIBS) $(GNUTLS_LIBS)
