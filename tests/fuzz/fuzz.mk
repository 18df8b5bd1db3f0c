# libFuzzer targets (clang, ASan+UBSan) for the parsers that read untrusted
# input: ElfReader (ELF files named by a target's mappings), Maps, Pclntab
# (the Go symbol table inside a target's binary), Inflater and the DWARF path
# (compressed debug sections, DebugInfo's unit index, DwarfLines) and Demangler.
# Each FUZZ_RUNS entry is one shell word ("\ " keeps it together in the
# fuzz-check loop, whose unquoted $$r splits it back into a command line).
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Iinclude -D_GNU_SOURCE
FUZZ_COMMON := -max_total_time=$(FUZZ_SECONDS)\ -print_final_stats=1\ -timeout=10\ -rss_limit_mb=1024

FUZZ_BINS += $(FUZZ_DIR)/fuzz_elf $(FUZZ_DIR)/fuzz_maps $(FUZZ_DIR)/seeds-elf/.done $(FUZZ_DIR)/seeds-maps/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_elf\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/elf-\ $(FUZZ_DIR)/corpus-elf\ $(FUZZ_DIR)/seeds-elf
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_maps\ $(FUZZ_COMMON)\ -artifact_prefix=$(FUZZ_DIR)/maps-\ $(FUZZ_DIR)/corpus-maps\ $(FUZZ_DIR)/seeds-maps
# 1 MiB: room for the Go 1.19 fixture's whole table (about 360 KiB).
FUZZ_BINS += $(FUZZ_DIR)/fuzz_pclntab $(FUZZ_DIR)/seeds-pclntab/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_pclntab\ $(FUZZ_COMMON)\ -max_len=1048576\ -artifact_prefix=$(FUZZ_DIR)/pclntab-\ $(FUZZ_DIR)/corpus-pclntab\ $(FUZZ_DIR)/seeds-pclntab

$(FUZZ_DIR)/fuzz_elf: tests/fuzz/fuzz_elf.c src/stack/ElfReader.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-elf
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lz

$(FUZZ_DIR)/fuzz_pclntab: tests/fuzz/fuzz_pclntab.c src/go/Pclntab.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-pclntab
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(FUZZ_DIR)/fuzz_maps: tests/fuzz/fuzz_maps.c src/stack/Maps.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-maps
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# Seeds: one small program as a full -g build, stripped (only .dynsym), and
# split (the .debug file itself, and the binary carrying a .gnu_debuglink).
$(FUZZ_DIR)/seeds-elf/.done: tests/fuzz/seed.c
	@mkdir -p $(dir $@)
	$(CC) -g -O1 -o $(dir $@)seed-debug $<
	strip -o $(dir $@)seed-stripped $(dir $@)seed-debug
	objcopy --only-keep-debug $(dir $@)seed-debug $(dir $@)seed.debug
	objcopy --strip-debug --add-gnu-debuglink=$(dir $@)seed.debug $(dir $@)seed-debug $(dir $@)seed-linked
	$(CC) -O1 -no-pie -o $(dir $@)seed-nopie $<
	touch $@

$(FUZZ_DIR)/seeds-maps/.done:
	@mkdir -p $(dir $@)
	cp /proc/self/maps $(dir $@)self
	printf '1000-2000 r-xp 00001000 fd:02 99 /tmp/a b (deleted)\n3000-4000 rw-p 00000000 00:00 0\n' > $(dir $@)crafted
	touch $@

# Seeds: the hand-built tables of the unit tests in each format (with their
# inline trees appended), and the real tables of the Go 1.19 fixture, plain
# and PIE (the section is .data.rel.ro.gopclntab there).
$(FUZZ_DIR)/seeds-pclntab/.done: tests/tools/pclntab_seeds.c tests/tools/pclntab_build.h \
                                 $(FIXTURE_DIR)/go_symtab $(FIXTURE_DIR)/go_symtab_pie
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $(FUZZ_DIR)/pclntab_seeds $<
	$(FUZZ_DIR)/pclntab_seeds $(dir $@)
	objcopy -O binary --only-section=.gopclntab $(FIXTURE_DIR)/go_symtab $(dir $@)go119
	objcopy -O binary --only-section=.data.rel.ro.gopclntab $(FIXTURE_DIR)/go_symtab_pie $(dir $@)go119-pie
	touch $@

# GoDetect: whether a target's executable is Go, from its section headers.
# Seeds: the small C program, and the same with an (empty) .gopclntab added.
FUZZ_BINS += $(FUZZ_DIR)/fuzz_godetect $(FUZZ_DIR)/seeds-godetect/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_godetect\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/godetect-\ $(FUZZ_DIR)/corpus-godetect\ $(FUZZ_DIR)/seeds-godetect

$(FUZZ_DIR)/fuzz_godetect: tests/fuzz/fuzz_godetect.c src/go/GoDetect.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-godetect
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(FUZZ_DIR)/seeds-godetect/.done: $(FUZZ_DIR)/seeds-elf/.done
	@mkdir -p $(dir $@)
	cp $(FUZZ_DIR)/seeds-elf/seed-stripped $(dir $@)c
	printf 'go' > $(dir $@)payload
	objcopy --add-section .gopclntab=$(dir $@)payload $(FUZZ_DIR)/seeds-elf/seed-stripped $(dir $@)go
	rm $(dir $@)payload
	touch $@

# Inflater (compressed debug sections of a target's files) and the DWARF path
# over it (DwarfImage, DebugInfo's unit index, libdw).
FUZZ_BINS += $(FUZZ_DIR)/fuzz_inflater $(FUZZ_DIR)/seeds-inflater/.done $(FUZZ_DIR)/fuzz_dwarf $(FUZZ_DIR)/seeds-dwarf/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_inflater\ $(FUZZ_COMMON)\ -max_len=262144\ -artifact_prefix=$(FUZZ_DIR)/inflater-\ $(FUZZ_DIR)/corpus-inflater\ $(FUZZ_DIR)/seeds-inflater
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_dwarf\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/dwarf-\ $(FUZZ_DIR)/corpus-dwarf\ $(FUZZ_DIR)/seeds-dwarf

$(FUZZ_DIR)/fuzz_inflater: tests/fuzz/fuzz_inflater.c src/stack/Inflater.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-inflater
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lz

DWARF_FUZZ_SRCS := src/stack/DebugInfo.c src/stack/DwarfImage.c src/stack/DwarfLines.c src/stack/Inflater.c \
                   src/stack/ElfReader.c src/util/Util.c
$(FUZZ_DIR)/fuzz_dwarf: tests/fuzz/fuzz_dwarf.c $(DWARF_FUZZ_SRCS) $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-dwarf
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ldw -lelf -lz

# Seeds: 32 bytes of ranges, then a zlib stream: text, a program, stored blocks.
$(FUZZ_DIR)/seeds-inflater/.done: tests/fuzz/seed.c $(FIXTURE_DIR)/deep_stack
	@mkdir -p $(dir $@)
	$(PYTHON) -c 'import sys, zlib; ops = bytes(range(7, 7 + 32 * 5, 5)); \
	  text = open(sys.argv[1], "rb").read(); \
	  open(sys.argv[2] + "text", "wb").write(ops + zlib.compress(text * 200, 6)); \
	  open(sys.argv[2] + "binary", "wb").write(ops + zlib.compress(open(sys.argv[3], "rb").read(), 9)); \
	  open(sys.argv[2] + "stored", "wb").write(ops + zlib.compress(bytes(range(256)) * 64, 0))' \
	  $< $(dir $@) $(FIXTURE_DIR)/deep_stack
	touch $@

$(FUZZ_DIR)/seeds-dwarf/.done: $(FIXTURE_DIR)/deep_gcc_gz $(FIXTURE_DIR)/deep_lld_gz $(FIXTURE_DIR)/deep_zdebug \
                               $(FIXTURE_DIR)/deep_split_gz $(FIXTURE_DIR)/deep_lld $(FIXTURE_DIR)/deep_clang_dwarf4
	@mkdir -p $(dir $@)
	cp $^ $(FIXTURE_DIR)/deep_split_gz.debug $(dir $@)
	touch $@

# Demangler (names from a target's symbol tables and DWARF) over libiberty.
FUZZ_BINS += $(FUZZ_DIR)/fuzz_demangle $(FUZZ_DIR)/seeds-demangle/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_demangle\ $(FUZZ_COMMON)\ -max_len=4096\ -artifact_prefix=$(FUZZ_DIR)/demangle-\ $(FUZZ_DIR)/corpus-demangle\ $(FUZZ_DIR)/seeds-demangle

$(FUZZ_DIR)/fuzz_demangle: tests/fuzz/fuzz_demangle.c src/stack/Demangler.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-demangle
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -liberty

$(FUZZ_DIR)/seeds-demangle/.done:
	@mkdir -p $(dir $@)
	printf '%s' '_ZN4shop12parkTemplateIdEEvT_' > $(dir $@)cxx-template
	printf '%s' '_ZZ4mainENKUlvE_clEv' > $(dir $@)cxx-lambda
	printf '%s' '_ZN7threads4shop6Worker4wait17h1e9b3fbe19e7bdceE' > $(dir $@)rust-legacy
	printf '%s' '_RNvMNtCskmvKKNlPUQU_7threads4shopNtB2_6Worker4wait' > $(dir $@)rust-v0
	touch $@

# DwarfLines (line-number programs of a target's files).
FUZZ_BINS += $(FUZZ_DIR)/fuzz_dwarflines $(FUZZ_DIR)/seeds-dwarflines/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_dwarflines\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/dwarflines-\ $(FUZZ_DIR)/corpus-dwarflines\ $(FUZZ_DIR)/seeds-dwarflines

$(FUZZ_DIR)/fuzz_dwarflines: tests/fuzz/fuzz_dwarflines.c src/stack/DwarfLines.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-dwarflines
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# Seeds: an address inside the program, file 1, then the .debug_line of the
# deep_stack builds (DWARF 4 and 5, gcc and clang).
DWARFLINES_SEED_BINS := $(FIXTURE_DIR)/deep_stack $(FIXTURE_DIR)/deep_gcc_dwarf4 $(FIXTURE_DIR)/deep_clang_dwarf4 \
                        $(FIXTURE_DIR)/deep_lld
$(FUZZ_DIR)/seeds-dwarflines/.done: $(DWARFLINES_SEED_BINS)
	@mkdir -p $(dir $@)
	set -e; for b in $^; do \
	  objcopy --dump-section .debug_line=$(dir $@)line.tmp $$b $(dir $@)elf.tmp; \
	  printf '\100\022\000\000\000\000\000\000\001' | cat - $(dir $@)line.tmp > $(dir $@)$$(basename $$b); \
	done; rm -f $(dir $@)line.tmp $(dir $@)elf.tmp
	touch $@

# AlertPayload (Alertmanager webhook bodies, from whoever reaches alert_listen)
# over libjansson, loaded as the watcher loads it (dlopen). Seeds: a payload
# as Alertmanager 0.25 sends it, and a few hostile ones.
FUZZ_BINS += $(FUZZ_DIR)/fuzz_alertpayload $(FUZZ_DIR)/seeds-alertpayload/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_alertpayload\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/alertpayload-\ $(FUZZ_DIR)/corpus-alertpayload\ $(FUZZ_DIR)/seeds-alertpayload

ALERTPAYLOAD_FUZZ_SRCS := src/watch/AlertPayload.c src/watch/JanssonApi.c src/util/Dlib.c src/util/Util.c
$(FUZZ_DIR)/fuzz_alertpayload: tests/fuzz/fuzz_alertpayload.c $(ALERTPAYLOAD_FUZZ_SRCS) $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-alertpayload
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ldl -lpthread

$(FUZZ_DIR)/seeds-alertpayload/.done: tests/fuzz/seeds/alertmanager-0.25.json
	@mkdir -p $(dir $@)
	cp $< $(dir $@)real
	printf '%s' '{"version":"4","alerts":[{"status":"firing","labels":{"groupname":"a\\"b\\\\c\\nd"},"fingerprint":"ff","startsAt":"2026-12-01T10:00:00Z"},7,{}]}' > $(dir $@)hostile
	printf '%s' '{"version":"4","alerts":[{"status":"resolved","labels":{"x":1},"annotations":[],"fingerprint":"0"}],"truncatedAlerts":3}' > $(dir $@)odd
	touch $@
