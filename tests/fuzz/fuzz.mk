# libFuzzer targets (clang, ASan+UBSan) for the parsers that read untrusted
# input: ElfReader (ELF files named by a target's mappings) and Maps.
# Each FUZZ_RUNS entry is one shell word ("\ " keeps it together in the
# fuzz-check loop, whose unquoted $$r splits it back into a command line).
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Iinclude -D_GNU_SOURCE
FUZZ_COMMON := -max_total_time=$(FUZZ_SECONDS)\ -print_final_stats=1\ -timeout=10\ -rss_limit_mb=1024

FUZZ_BINS += $(FUZZ_DIR)/fuzz_elf $(FUZZ_DIR)/fuzz_maps $(FUZZ_DIR)/seeds-elf/.done $(FUZZ_DIR)/seeds-maps/.done
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_elf\ $(FUZZ_COMMON)\ -max_len=65536\ -artifact_prefix=$(FUZZ_DIR)/elf-\ $(FUZZ_DIR)/corpus-elf\ $(FUZZ_DIR)/seeds-elf
FUZZ_RUNS += $(FUZZ_DIR)/fuzz_maps\ $(FUZZ_COMMON)\ -artifact_prefix=$(FUZZ_DIR)/maps-\ $(FUZZ_DIR)/corpus-maps\ $(FUZZ_DIR)/seeds-maps

$(FUZZ_DIR)/fuzz_elf: tests/fuzz/fuzz_elf.c src/stack/ElfReader.c src/util/Util.c $(wildcard include/stacktop/*.h)
	@mkdir -p $(dir $@) $(FUZZ_DIR)/corpus-elf
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
