/* One ELF file of a target: see ElfFile.h. */
#include "stacktop/ElfFile.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/DebugInfo.h"
#include "stacktop/DwarfImage.h"
#include "stacktop/GoBinary.h"
#include "stacktop/Maps.h"
#include "stacktop/Util.h"

#define DEBUG_ROOT "/usr/lib/debug"
/* A debuglink candidate is hashed whole; bigger ones are not debug files we
 * want to spend seconds on. */
#define MAX_CRC_BYTES ((size_t)4 << 30)
/* Our vDSO is at most a few pages; its ELF headers say how much. */
#define VDSO_MAX_BYTES ((size_t)64 << 10)

/* Maps the sealed copy open on fd (taking the fd) and parses its headers. */
static ElfFile* mapFile(int fd, const char* path, pid_t rootPid) {
   struct stat st;
   if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
      close(fd);
      return NULL;
   }
   void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
   if (map == MAP_FAILED) {
      close(fd);
      return NULL;
   }
   ElfFile* this = Util_xcalloc(1, sizeof(*this));
   *this = (ElfFile){ .fd = fd, .data = map, .size = (size_t)st.st_size, .rootPid = rootPid };
   char err[128];
   if (ElfReader_parseHeaders(&this->reader, map, this->size, err, sizeof(err)) < 0) {
      ElfFile_free(this);
      return NULL;
   }
   this->path = Util_xstrdup(path);
   return this;
}

ElfFile* ElfFile_open(int fd, const char* path, pid_t rootPid) {
   return fd < 0 ? NULL : mapFile(fd, path, rootPid);
}

/* The kernel maps the same vDSO into every process: ours (AT_SYSINFO_EHDR),
 * bounded by our own [vdso] mapping, names the target's. */
ElfFile* ElfFile_openVdso(void) {
   uint64_t base = getauxval(AT_SYSINFO_EHDR);
   Maps self;
   char err[256];
   if (base == 0 || Maps_read(&self, getpid(), err, sizeof(err)) < 0)
      return NULL;
   const MapEntry* e = Maps_find(&self, base);
   size_t size = e && strcmp(e->path, "[vdso]") == 0 ? (size_t)(e->end - base) : 0;
   Maps_free(&self);
   if (size == 0 || size > VDSO_MAX_BYTES)
      return NULL;
   ElfFile* this = Util_xcalloc(1, sizeof(*this));
   *this = (ElfFile){ .fd = -1, .data = (const uint8_t*)(uintptr_t)base, .size = size, .borrowed = true };
   if (ElfReader_parseHeaders(&this->reader, this->data, this->size, err, sizeof(err)) < 0) {
      free(this);
      return NULL;
   }
   this->path = Util_xstrdup("[vdso]");
   return this;
}

void ElfFile_free(ElfFile* this) {
   if (!this)
      return;
   DebugInfo_free(this->dwarf);
   GoBinary_free(this->go);
   ElfFile_free(this->debug);
   ElfReader_free(&this->reader);
   if (this->data && !this->borrowed)
      munmap((void*)this->data, this->size);
   if (this->fd >= 0)
      close(this->fd);
   free(this->path);
   free(this);
}

/* ---- the separate debug file ------------------------------------------- */

/* Paths come from a possibly hostile process: only regular files are opened
 * (no device side effects), and O_NONBLOCK keeps a FIFO swapped in after the
 * stat from blocking us; mapFile re-checks S_ISREG on the open fd. Debug
 * files may sit next to a user's binary: read through a sealed copy too. */
static ElfFile* openDebugPath(const char* path) {
   struct stat st;
   if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      return NULL;
   int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
   if (fd >= 0)
      fd = Maps_sealedCopy(fd);
   return fd >= 0 ? mapFile(fd, path, 0) : NULL;
}

static bool sameBuildId(const ElfReader* a, const ElfReader* b) {
   return a->buildIdLen && a->buildIdLen == b->buildIdLen && memcmp(a->buildId, b->buildId, a->buildIdLen) == 0;
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug, accepted only with the same build-id. */
static ElfFile* debugByBuildId(const ElfFile* this) {
   char hex[2 * sizeof(this->reader.buildId) + 1], path[256];
   if (!ElfReader_buildIdHex(&this->reader, hex, sizeof(hex)) || strlen(hex) < 3)
      return NULL;
   Util_format(path, sizeof(path), DEBUG_ROOT "/.build-id/%.2s/%s.debug", hex, hex + 2);
   ElfFile* debug = openDebugPath(path);
   if (debug && sameBuildId(&this->reader, &debug->reader))
      return debug;
   ElfFile_free(debug);
   return NULL;
}

/* .gnu_debuglink next to the binary, in .debug/, under /usr/lib/debug/DIR
 * and inside the target's root, accepted only when the CRC matches. */
static ElfFile* debugByLink(const ElfFile* this) {
   const char* name = this->reader.debuglink;
   if (!name || this->path[0] != '/')
      return NULL;
   char dirBuf[4096];
   Util_format(dirBuf, sizeof(dirBuf), "%s", this->path);
   const char* dir = dirname(dirBuf);
   char candidates[4][4400];
   Util_format(candidates[0], sizeof(candidates[0]), "%s/%s", dir, name);
   Util_format(candidates[1], sizeof(candidates[1]), "%s/.debug/%s", dir, name);
   Util_format(candidates[2], sizeof(candidates[2]), DEBUG_ROOT "%s/%s", dir, name);
   Util_format(candidates[3], sizeof(candidates[3]), "/proc/%d/root%s/%s", (int)this->rootPid, dir, name);
   size_t count = this->rootPid > 0 ? 4 : 3;
   for (size_t i = 0; i < count; i++) {
      if (strcmp(candidates[i], this->path) == 0)
         continue;
      ElfFile* debug = openDebugPath(candidates[i]);
      if (debug && debug->size <= MAX_CRC_BYTES &&
          ElfReader_crc32(debug->data, debug->size) == this->reader.debuglinkCrc)
         return debug;
      ElfFile_free(debug);
   }
   return NULL;
}

ElfFile* ElfFile_debugFile(ElfFile* this) {
   if (this->debugTried)
      return this->debug;
   this->debugTried = true;
   if (this->borrowed)
      return NULL;
   this->debug = debugByBuildId(this);
   if (!this->debug)
      this->debug = debugByLink(this);
   return this->debug;
}

/* ---- names and lines ----------------------------------------------------- */

const ElfReader* ElfFile_names(ElfFile* this) {
   ElfReader_loadSymbols(&this->reader);
   if (this->reader.fromSymtab)
      return &this->reader;
   ElfFile* debug = ElfFile_debugFile(this);
   if (!debug)
      return &this->reader;
   ElfReader_loadSymbols(&debug->reader);
   return debug->reader.fromSymtab ? &debug->reader : &this->reader;
}

const ElfSymbol* ElfFile_lookup(ElfFile* this, uint64_t vaddr, uint64_t* offset) {
   const ElfReader* names = ElfFile_names(this);
   const ElfSymbol* s = ElfReader_lookup(names, vaddr, offset);
   if (!s && names != &this->reader)
      s = ElfReader_lookup(&this->reader, vaddr, offset);
   return s;
}

/* Uncompressed DWARF is read by libdw from the sealed copy (it maps it and
 * touches only what a lookup reads); compressed DWARF, which libdw would
 * inflate in full on open, through a DwarfImage. */
static DebugInfo* openDwarf(const ElfFile* f) {
   if (!DwarfImage_wanted(&f->reader))
      return DebugInfo_open(f->fd);
   char err[256];
   DwarfImage* image = DwarfImage_open(&f->reader, DWARFIMAGE_KEEP_BYTES, err, sizeof(err));
   return image ? DebugInfo_openImage(image) : NULL;
}

DebugInfo* ElfFile_dwarf(ElfFile* this) {
   if (this->dwarfTried)
      return this->dwarf;
   this->dwarfTried = true;
   ElfFile* f = this->reader.hasDebugInfo ? this : ElfFile_debugFile(this);
   if (f && f->fd >= 0 && f->reader.hasDebugInfo)
      this->dwarf = openDwarf(f);
   return this->dwarf;
}

GoBinary* ElfFile_go(ElfFile* this) {
   if (!this->goTried) {
      this->goTried = true;
      this->go = this->borrowed ? NULL : GoBinary_open(this);
   }
   return this->go;
}
