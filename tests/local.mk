# Test lanes beyond `make check` live in tests/run (integration, vm); their files ship in the tarball.
EXTRA_DIST += tests/run tests/lib tests/integration tests/vm tests/bench tests/fuzz tests/unit/tap.h
