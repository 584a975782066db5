# tests/unit/module.mk: C unit tests (TAP). Every tests/unit/test_*.c is one test
# program; a wildcard keeps the list in one place as tests are added.
UNIT_TESTS = $(sort $(wildcard tests/unit/test_*.c))
