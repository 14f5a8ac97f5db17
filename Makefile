# concbench — build, test and benchmark from one Makefile.
# Quiet by default (V=1 shows commands); -MMD dependencies; SANITIZER=address,undefined|thread.

CC       ?= cc
OPT      ?= -O2
BUILD    ?= build
BIN      ?= bin
PKGS      = libcurl libcrypto libevent jansson
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0 2>/dev/null) # headers only: lib/crawl.c dlopens it
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CPPFLAGS += -D_GNU_SOURCE -Ilib -Iserver -Ibench
CFLAGS   += -std=c11 $(OPT) -g $(WARN) -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(XML_CFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

ifneq ($(SANITIZER),)
CFLAGS  += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZER)
endif

ifeq ($(V),1)
Q =
else
Q = @
endif

LIB_SRC    = $(wildcard lib/*.c)
SERVER_SRC = $(filter-out server/flagd.c,$(wildcard server/*.c))
BENCH_SRC  = $(filter-out bench/concbench.c,$(wildcard bench/*.c))
DRIVERS    = $(patsubst drivers/%.c,$(BIN)/%,$(wildcard drivers/*.c))
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c)) \
             $(BUILD)/tests/test_coro_ucontext
PROGRAMS   = $(DRIVERS) $(if $(wildcard server/flagd.c),$(BIN)/flagd) $(if $(wildcard bench/concbench.c),$(BIN)/concbench)

LIBCORE  = $(BUILD)/libconcbench.a
LIBFLAGD = $(BUILD)/libflagd.a
LIBBENCH = $(BUILD)/libbench.a

.PHONY: all deps unit-tests test format format-check sanitize tsan valgrind bench bench-ci anchors fuzz fuzz-build clean \
        man install uninstall
.SECONDARY:
all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBCORE): $(LIB_SRC:%.c=$(BUILD)/%.o)
$(LIBFLAGD): $(SERVER_SRC:%.c=$(BUILD)/%.o)
$(LIBBENCH): $(BENCH_SRC:%.c=$(BUILD)/%.o)
$(LIBCORE) $(LIBFLAGD) $(LIBBENCH):
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/%: $(BUILD)/drivers/%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/flagd: $(BUILD)/server/flagd.o $(LIBFLAGD) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/concbench: $(BUILD)/bench/concbench.o $(LIBBENCH) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcsv

# Helpers the CLI tests run (not tests themselves: run-tests.sh runs only test_*).
TEST_TOOLS = $(BUILD)/tests/connflood $(BUILD)/tests/slowdown
$(BUILD)/tests/connflood: $(BUILD)/tests/tools/connflood.o
$(BUILD)/tests/slowdown: $(BUILD)/tests/tools/slowdown.o
$(TEST_TOOLS):
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBBENCH) $(LIBFLAGD) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcsv -lcmocka

# test_coro once more on glibc's ucontext switch, lib/coro.c's own off x86-64, so that both
# context switches stay tested wherever the suite runs.
$(BUILD)/lib/coro_ucontext.o: lib/coro.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (-DCORO_UCONTEXT)")
	$(Q)$(CC) $(CPPFLAGS) -DCORO_UCONTEXT $(CFLAGS) -c -o $@ $<
$(BUILD)/tests/test_coro_ucontext: $(BUILD)/tests/unit/test_coro.o $(BUILD)/lib/coro_ucontext.o \
                                   $(LIBBENCH) $(LIBFLAGD) $(LIBCORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcsv -lcmocka

deps:
	@scripts/deps.sh

unit-tests: $(UNIT_TESTS) $(TEST_TOOLS)

# make test: install what is missing, build, run every unit and CLI test, end with "N passed, N failed",
# then check the formatting (after the tests, so that their verdict is always printed).
test: deps
	@$(MAKE) --no-print-directory all unit-tests
	@BUILD=$(BUILD) BIN=$(BIN) scripts/run-tests.sh
	@$(MAKE) --no-print-directory format-check

# The C sources clang-format owns (.clang-format); fuzz targets and test tools included.
FORMAT_SRC = $(sort $(wildcard lib/*.[ch] drivers/*.[ch] server/*.[ch] bench/*.[ch] \
                               tests/unit/*.[ch] tests/fuzz/*.c tests/tools/*.c \
                               scripts/anchors.d/*.c))
CLANG_FORMAT ?= clang-format

# make format: rewrite every source in place. make format-check: list the files it would change
# and fail, or say nothing is left; skipped (with a note) where clang-format is not installed.
format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check:
	@if ! command -v $(CLANG_FORMAT) >/dev/null 2>&1; then \
	    echo "format-check: $(CLANG_FORMAT) not installed (scripts/deps.sh installs it): skipped" >&2; \
	    exit 0; \
	fi; \
	bad=0; \
	for f in $(FORMAT_SRC); do \
	    $(CLANG_FORMAT) --dry-run -Werror "$$f" >/dev/null 2>&1 || { echo "format-check: $$f"; bad=$$((bad + 1)); }; \
	done; \
	if [ $$bad -gt 0 ]; then \
	    echo "format-check: $$bad file(s) not formatted; run make format" >&2; exit 1; \
	fi; \
	echo "format-check: every file formatted"

# The whole suite again, built with ASan + UBSan into build/asan and bin/asan; any report
# from any process fails it (scripts/sanitize.sh).
sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=bin/asan SANITIZER=address,undefined all unit-tests
	@BUILD=build/asan BIN=bin/asan scripts/sanitize.sh

# ThreadSanitizer over the thread pool and the coroutine driver's executor bridge, built into
# build/tsan and bin/tsan (scripts/tsan.sh).
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan BIN=bin/tsan SANITIZER=thread all unit-tests
	@BUILD=build/tsan BIN=bin/tsan scripts/tsan.sh

# memcheck over every driver and flagd on small runs: 0 errors, 0 bytes definitely lost.
valgrind: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) scripts/valgrind.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) QUICK=$(QUICK) scripts/bench.sh

# The CI performance gate: the quick matrix against the committed baseline; flagged
# configurations are measured again and fail only when the regression holds both times
# (scripts/bench-ci.sh; exit 3: inconclusive). BENCH_CI_ARGS go to concbench compare.
bench-ci: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) OUT=$(BUILD)/bench-ci scripts/bench-ci.sh $(BENCH_CI_ARGS)

# concbench side by side with curl, nginx and openssl; rewrites docs/performance.md's tables.
# Anchor 6's libcurl floor (scripts/anchors.d/floor.c) is a bare curl_multi client, not a
# strategy: built here, for this target only, and linked with libcurl and libevent alone
# (libevent for its --socket mode, curl_multi_socket_action as lib/loop.c drives it).
FLOOR = $(BUILD)/anchors/floor
$(FLOOR): scripts/anchors.d/floor.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC-LD   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(shell pkg-config --libs libcurl libevent 2>/dev/null) -lm

anchors: deps
	@scripts/deps.sh nginx-light wrk openssl || echo "anchors: nginx-light, wrk or openssl cannot be installed: those anchors will be skipped" >&2
	@$(MAKE) --no-print-directory all $(FLOOR)
	@BIN=$(BIN) FLOOR=$(FLOOR) scripts/anchors

# make fuzz: libFuzzer targets (clang 14, ASan + UBSan) over flagd's route and store lookup
# and the results CSV reader; each runs FUZZ_SECONDS from its committed corpus
# (tests/fuzz/corpus/TARGET), and any crash, leak or broken invariant fails the run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD    = $(BUILD)/fuzz
FUZZ_TARGETS  = route csv
FUZZ_FLAGS    = -std=c11 -O1 -g $(WARN) -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_HEADERS  = $(wildcard server/*.h bench/*.h)

$(FUZZ_BUILD)/fuzz_route: tests/fuzz/fuzz_route.c server/route.c server/store.c $(FUZZ_HEADERS)
$(FUZZ_BUILD)/fuzz_route: FUZZ_LIBS = $(shell pkg-config --libs jansson 2>/dev/null)
$(FUZZ_BUILD)/fuzz_csv: tests/fuzz/fuzz_csv.c bench/csvio.c bench/results.c $(FUZZ_HEADERS)
$(FUZZ_BUILD)/fuzz_csv: FUZZ_LIBS = -lcsv -lm
$(FUZZ_BUILD)/fuzz_%:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(shell pkg-config --cflags jansson 2>/dev/null) $(FUZZ_FLAGS) \
	    -o $@ $(filter %.c,$^) $(FUZZ_LIBS)

# libclang-rt-14-dev holds libFuzzer itself; clang only recommends it.
fuzz-build:
	@scripts/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

# make install PREFIX=/usr/local [DESTDIR=...]: the six programs, the plot script (as
# concbench-plot) and one man page each, generated by help2man from their --help.
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
INSTALL ?= install
INSTALLED = $(notdir $(PROGRAMS)) concbench-plot
MANBUILD ?= $(BUILD)/man
MAN_PAGES = $(INSTALLED:%=$(MANBUILD)/%.1)
# help2man's NAME line, one per program.
man_name_sequential  = the reference strategy: flags or sha jobs one after another
man_name_threadpool  = the thread-pool strategy: flags or sha jobs on pthreads
man_name_processpool = the process-pool strategy: flags or sha jobs on pre-forked workers
man_name_coroutine   = the coroutine strategy: flags on one event loop, as the book's asyncio
man_name_flagd       = the local flag server: LOCAL, DELAY and ERROR listeners
man_name_concbench   = time, validate, tabulate and compare the concbench drivers
man_name_concbench-plot = draw a concbench results file with gnuplot

define help2man
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  MAN     $@")
	$(Q)help2man -N --version-string="$(VERSION)" --name="$(man_name_$(basename $(notdir $@)))" \
	    -o $@ $(abspath $<) || { rm -f $@; echo "make: help2man failed on $< (scripts/deps.sh installs it)" >&2; exit 1; }
endef
# help2man names a page after the file it runs: the script runs under its installed name.
$(MANBUILD)/concbench-plot.1: $(MANBUILD)/concbench-plot
	$(help2man)
$(MANBUILD)/concbench-plot: scripts/plot
	@mkdir -p $(dir $@)
	$(Q)cp $< $@
$(MANBUILD)/%.1: $(BIN)/%
	$(help2man)

man: $(MAN_PAGES)

install: all man
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	$(Q)$(INSTALL) -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	$(Q)$(INSTALL) -m 755 scripts/plot $(DESTDIR)$(BINDIR)/concbench-plot
	$(Q)$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/

uninstall:
	$(Q)rm -f $(INSTALLED:%=$(DESTDIR)$(BINDIR)/%) $(INSTALLED:%=$(DESTDIR)$(MANDIR)/%.1)

clean:
	rm -rf $(BUILD) $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
