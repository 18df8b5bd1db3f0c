# stacktop — a process monitor that tells you why: see README.md.
#
# The two commands a new user needs:
#   make run     installs missing Debian packages, builds, starts the monitor
#   make check   installs missing Debian packages, builds, runs every test
#                (unit tests plain and under ASan+UBSan, end-to-end tests
#                against the sanitized binary, a bounded fuzz run)
# Others: make (build), make bench, make soak (10 minutes of stacktop watch:
#         RSS must stay flat), make install [PREFIX=/usr/local DESTDIR=],
#         make deps, make clean.

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
# systemd looks for units in /usr/local/lib/systemd/system too.
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
BUILD   ?= build
# Debian's python3: python3-pytest and python3-aiosmtpd are installed for it,
# not for a pyenv python that may come first on PATH.
PYTHON  ?= /usr/bin/python3
CLANG   ?= clang
# Seconds each fuzz target runs during `make check`.
FUZZ_SECONDS ?= 20

# Fixture and fuzz .mk files are included before `all:`; keep `make` = `make all`.
.DEFAULT_GOAL := all

# ---- dependencies (Debian 12 package names); README.md says what each is for
DEB_BUILD := build-essential pkg-config libncurses-dev libproc2-dev libunwind-dev \
             libdw-dev libelf-dev zlib1g-dev libiberty-dev libinih-dev libarchive-dev libcurl4-openssl-dev \
             libarchive13 libcurl4 libmicrohttpd-dev libmicrohttpd12 libjansson-dev libjansson4
# prometheus (promtool) and prometheus-alertmanager (amtool) are daemons: `make deps`
# installs them with a policy-rc.d that forbids starting services (see deps).
DEB_TEST  := libcmocka-dev python3-pytest tmux clang libclang-rt-14-dev lld mold rustc gdb elfutils \
             golang-go libc6-dbg procps htop python3-aiosmtpd nodejs git cppcheck clang-format clang-tools \
             prometheus prometheus-alertmanager openssl
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST)

PKGS       := libproc2 ncursesw libunwind-ptrace libdw libelf inih zlib
# libarchive, libcurl, libmicrohttpd and jansson: headers only; watch mode dlopens
# libarchive.so.13 and libcurl.so.4 on first use (src/watch/ArchiveApi.c, CurlApi.c),
# libmicrohttpd.so.12 (and GnuTLS behind it) only with a metrics or alert listener and
# libjansson.so.4 only for the Alertmanager receiver (MhdApi.c, JanssonApi.c), so the
# monitor and dumps do not load their ~40 dependent libraries.
DLOPEN_PKGS := libarchive libcurl libmicrohttpd jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null)
# libiberty (static only): the C++/Rust demangler of binutils and gdb.
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -liberty -ldl -lpthread -lm

OPT      ?= -O2 -g
# make check always builds with -Werror; packagers may opt out (WERROR=0).
WERROR   ?= 1
WARNINGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wvla
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# assert() checks the invariants in the sanitizer build (make check); the
# release build compiles them out.
ifeq ($(SAN),1)
  OPT := -O1 -g
  SANITIZE := $(SAN_FLAGS)
else
  CPPFLAGS += -DNDEBUG
endif
# Test hooks (STACKTOP_TEST_HOLD_MS) exist only in the test build that
# `make check` runs the end-to-end tests against, never in `make`/`install`.
TEST_HOOKS ?= 0
ifeq ($(TEST_HOOKS),1)
  CPPFLAGS += -DSTACKTOP_TEST_HOOKS
endif

THEMEDIR := $(PREFIX)/share/stacktop/themes
CPPFLAGS += -Iinclude -D_GNU_SOURCE \
            -DSTACKTOP_THEMEDIR='"$(THEMEDIR)"' -DSTACKTOP_SRC_THEMEDIR='"$(abspath themes)"'
ALL_CFLAGS = -std=gnu11 $(OPT) $(WARNINGS) $(SANITIZE) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SANITIZE) $(LDFLAGS)

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libstacktop.a
BIN      := $(BUILD)/stacktop

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Fixtures are never sanitized: they are the processes being observed.
FIXTURE_DIR    := build/fixtures
FIXTURE_SRCS   := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BINS   := $(FIXTURE_SRCS:tests/fixtures/%.c=$(FIXTURE_DIR)/%)
FIXTURE_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -pthread -Wall -Wextra -Werror -D_GNU_SOURCE
# Extra fixture variants (stripped, non-PIE, Go, ...) add themselves to FIXTURE_BINS.
-include $(sort $(wildcard tests/fixtures/*.mk))
# Fuzz targets (clang libFuzzer) add themselves to FUZZ_BINS and FUZZ_RUNS.
-include $(sort $(wildcard tests/fuzz/*.mk))

.PHONY: all run check deps test-unit test-e2e fixtures fuzz-check static-check bench soak install uninstall clean pkgcheck

all: $(BIN)

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# A missing library is one line naming it, before any compile error.
pkgcheck:
	@pkg-config --print-errors --exists $(PKGS) $(DLOPEN_PKGS) || \
	  { echo "stacktop: the libraries above are missing: run 'make deps' (as root) or install $(DEB_BUILD)" >&2; exit 1; }

$(BUILD)/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS) -lcmocka

$(FIXTURE_DIR)/%: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FIXTURE_CFLAGS) -o $@ $< -lpthread -lm

fixtures: $(FIXTURE_BINS)

# Theme.c compiles the theme directory in: rebuild it when PREFIX changes, so
# `make install PREFIX=/usr` never installs a binary that looks elsewhere.
THEMEDIR_STAMP := $(BUILD)/.themedir
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(THEMEDIR_STAMP) 2>/dev/null)" = "$(THEMEDIR)" ] || echo "$(THEMEDIR)" > $(THEMEDIR_STAMP); })
$(BUILD)/src/ui/Theme.o: $(THEMEDIR_STAMP)
# Likewise the objects that hold test hooks, when TEST_HOOKS changes.
HOOKS_STAMP := $(BUILD)/.testhooks
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(HOOKS_STAMP) 2>/dev/null)" = "$(TEST_HOOKS)" ] || echo "$(TEST_HOOKS)" > $(HOOKS_STAMP); })
$(BUILD)/src/stack/Snapshot.o $(BUILD)/src/stack/Dump.o $(BUILD)/src/main.o: $(HOOKS_STAMP)

# ---- the two README commands
run: deps
	@$(MAKE) --no-print-directory all
	./$(BIN) $(ARGS)

check: deps
	@$(MAKE) --no-print-directory WERROR=1 all fixtures
	@$(MAKE) --no-print-directory WERROR=1 test-unit
	@$(MAKE) --no-print-directory WERROR=1 BUILD=build/asan SAN=1 TEST_HOOKS=1 all test-unit
	@$(MAKE) --no-print-directory test-e2e STACKTOP_BIN=build/asan/stacktop
	@$(MAKE) --no-print-directory fuzz-check
	@$(MAKE) --no-print-directory static-check
	@echo "make check: every test passed"

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

STACKTOP_BIN ?= $(BIN)
test-e2e: $(STACKTOP_BIN) fixtures
	STACKTOP_BIN=$(abspath $(STACKTOP_BIN)) STACKTOP_FIXTURES=$(abspath $(FIXTURE_DIR)) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# Static analysis with zero findings (a false positive gets an inline
# "cppcheck-suppress" with the reason; clang's analyzer, scan-build, over the
# same sources in a build of its own), and the house format.
CPPCHECK_FLAGS := --quiet --enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
                  --std=c11 -Iinclude -D__x86_64__ -D_GNU_SOURCE
FORMAT_FILES := $(wildcard src/*.c src/*/*.c include/stacktop/*.h tests/unit/*.c tests/fuzz/*.c \
                            tests/fixtures/*.c tests/tools/*.c tests/tools/*.h)
SCAN_DIR := $(BUILD)/scan
static-check:
	cppcheck $(CPPCHECK_FLAGS) src
	@echo "cppcheck: no findings"
	@rm -rf $(SCAN_DIR)
	scan-build --status-bugs -o $(SCAN_DIR)/reports $(MAKE) -j$(shell nproc) --no-print-directory BUILD=$(SCAN_DIR)/build \
	  $(SCAN_DIR)/build/stacktop > $(SCAN_DIR).log 2>&1 || { cat $(SCAN_DIR).log; exit 1; }
	@echo "scan-build: no findings"
	@clang-format --dry-run --Werror $(FORMAT_FILES) || \
	  { echo "static-check: the files above differ from .clang-format: run clang-format -i on them" >&2; exit 1; }
	@echo "clang-format: $(words $(FORMAT_FILES)) files formatted"

fuzz-check: $(FUZZ_BINS)
	@set -e; for r in $(FUZZ_RUNS); do $$r; done

bench: deps
	@$(MAKE) --no-print-directory all fixtures $(BENCH_BINS)
	STACKTOP_BIN=$(abspath $(BIN)) STACKTOP_FIXTURES=$(abspath $(FIXTURE_DIR)) \
	  $(PYTHON) tests/bench/run.py $(BENCH_ARGS)

# Not in `make check`: SOAK_SECONDS (default 600) of watch mode over 20 services.
soak: deps
	@$(MAKE) --no-print-directory all fixtures
	STACKTOP_BIN=$(abspath $(BIN)) STACKTOP_FIXTURES=$(abspath $(FIXTURE_DIR)) $(PYTHON) tests/soak/soak.py

# ---- setup: idempotent; as non-root it prints the command instead of running it
deps:
	@missing=$$(for p in $(DEB_ALL); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done | tr '\n' ' '); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "stacktop: missing Debian packages: $$missing"; \
	  echo "run as root: apt-get update && apt-get install -y $$missing"; exit 1; \
	fi; \
	echo "make deps: installing $$missing"; \
	apt-get update -qq || exit 1; \
	policy=/usr/sbin/policy-rc.d; saved=; \
	if [ -e $$policy ]; then saved=$$(mktemp) && cp -p $$policy $$saved || exit 1; fi; \
	restore() { if [ -n "$$saved" ]; then mv -f $$saved $$policy; else rm -f $$policy; fi; }; \
	trap restore EXIT INT TERM; \
	printf '#!/bin/sh\n# make deps: no daemon starts while packages are installed\nexit 101\n' > $$policy && \
	chmod 755 $$policy && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

# The unit runs the installed binary; the example config goes next to where
# the unit reads the real one (never over it).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(THEMEDIR) $(DESTDIR)$(UNITDIR)
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/stacktop
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/stacktop
	install -m 0644 doc/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 doc/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 themes/*.theme $(DESTDIR)$(THEMEDIR)/
	sed -e 's|/usr/local/bin/stacktop|$(PREFIX)/bin/stacktop|g' -e 's|/etc/stacktop/|$(SYSCONFDIR)/stacktop/|g' \
	  doc/stacktop-watch.service > $(DESTDIR)$(UNITDIR)/stacktop-watch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/stacktop-watch.service
	install -m 0600 doc/stacktop.conf.example $(DESTDIR)$(SYSCONFDIR)/stacktop/stacktop.conf.example

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/stacktop $(DESTDIR)$(PREFIX)/share/man/man1/stacktop.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5/stacktop.conf.5 $(DESTDIR)$(UNITDIR)/stacktop-watch.service \
	  $(DESTDIR)$(SYSCONFDIR)/stacktop/stacktop.conf.example
	rm -rf $(DESTDIR)$(THEMEDIR)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d
