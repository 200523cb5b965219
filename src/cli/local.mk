bin_PROGRAMS += husk
husk_SOURCES = src/cli/main.c src/cli/commands.h src/cli/version.c src/cli/master-exec.c
husk_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# Component libraries are listed before lib/libhusk.a, which they all use.
husk_LDADD = $(HUSK_COMPONENT_LIBS) $(LIBHUSK_LIBS) $(HUSK_COMPONENT_DEPLIBS)

# husk-master: the master alone (src/cli/husk-master.c), which `husk master` execs when it is
# installed next to husk. The same libraries as husk, but only the objects the master
# reaches are taken from them and --as-needed drops the shared libraries it does not call
# (libarchive and what it pulls in, libseccomp, libcap, libmnl, libnftnl). docs/api.md.
bin_PROGRAMS += husk-master
husk_master_SOURCES = src/cli/husk-master.c
husk_master_CFLAGS = $(AM_CFLAGS)
husk_master_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
husk_master_LDADD = $(HUSK_COMPONENT_LIBS) $(LIBHUSK_LIBS) $(HUSK_COMPONENT_DEPLIBS)
# `make husk` links husk-master too: husk would otherwise exec a stale one left in the build dir.
EXTRA_husk_DEPENDENCIES = husk-master
