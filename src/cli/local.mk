bin_PROGRAMS += husk
husk_SOURCES = src/cli/main.c src/cli/commands.h src/cli/version.c
husk_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# Component libraries are listed before lib/libhusk.a, which they all use.
husk_LDADD = $(HUSK_COMPONENT_LIBS) $(LIBHUSK_LIBS) $(HUSK_COMPONENT_DEPLIBS)
