/* Symbolization with a per-ELF cache.
 *
 * A mapping is identified by its device+inode from /proc/PID/maps (FileKey,
 * sorted, binary-searched). The first time an identity is seen its file is
 * opened (path, else /proc/PID/map_files/START-END, else /proc/PID/root/PATH),
 * mmapped read-only and parsed once; files with the same build-id share one
 * Module. A Module adds the separate debug file (build-id directory, then
 * .gnu_debuglink with CRC check) whose .symtab wins over the binary's .dynsym,
 * and, when lines are wanted, a DebugInfo on whichever file has DWARF. Nothing
 * is opened or scanned per lookup after that. */
#include "stacktop/Symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stacktop/DebugInfo.h"
#include "stacktop/ElfReader.h"
#include "stacktop/Util.h"

#define DEBUG_ROOT "/usr/lib/debug"
/* A debuglink candidate is hashed whole; bigger ones are not debug files we
 * want to spend seconds on. */
#define MAX_CRC_BYTES ((size_t)4 << 30)
/* DebugFrame scratch per lookup: deeper inline nests are cut. */
#define MAX_INLINE_DEPTH 32

/* One ELF file mapped read-only and parsed. */
typedef struct MappedElf_ {
   int fd; /* -1 when absent; kept open for libdw */
   void* map;
   size_t size;
   bool borrowed; /* map is our own vDSO, not to be unmapped */
   ElfReader reader;
} MappedElf;

/* One distinct ELF (by build-id, else by file identity). */
typedef struct Module_ {
   MappedElf main;
   MappedElf debug;        /* separate debug file, fd -1 when none */
   const ElfReader* names; /* the best function table: debug .symtab, else main */
   DebugInfo* dwarf;       /* NULL without DWARF or when lines are off */
} Module;

/* A file identity seen in some process's maps. */
typedef struct FileKey_ {
   dev_t dev;
   ino_t inode;
   Module* module; /* NULL when the file could not be opened or parsed */
   char* path;     /* the maps path first seen; returned as SymbolFrame.module */
} FileKey;

struct Symbols_ {
   bool lines;
   size_t inflateLimit; /* see Symbols_setInflateLimit */
   Module** modules;    /* owned */
   size_t moduleCount, moduleCapacity;
   FileKey* keys; /* sorted by (dev, inode) */
   size_t keyCount, keyCapacity;
   Module* vdso; /* owned; our own vDSO parsed, see vdsoModule */
   bool vdsoTried;
};

Symbols* Symbols_new(bool lines) {
   Symbols* this = Util_xcalloc(1, sizeof(*this));
   this->lines = lines;
   this->inflateLimit = SYMBOLS_DEFAULT_INFLATE_LIMIT;
   return this;
}

void Symbols_setInflateLimit(Symbols* this, size_t bytes) {
   this->inflateLimit = bytes;
}

static void unmapElf(MappedElf* m) {
   ElfReader_free(&m->reader);
   if (m->map && !m->borrowed)
      munmap(m->map, m->size);
   if (m->fd >= 0)
      close(m->fd);
   m->map = NULL;
   m->fd = -1;
}

static void freeModule(Module* m) {
   DebugInfo_free(m->dwarf);
   unmapElf(&m->debug);
   unmapElf(&m->main);
   free(m);
}

void Symbols_free(Symbols* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->moduleCount; i++)
      freeModule(this->modules[i]);
   for (size_t i = 0; i < this->keyCount; i++)
      free(this->keys[i].path);
   if (this->vdso)
      freeModule(this->vdso);
   free(this->modules);
   free(this->keys);
   free(this);
}

/* Maps and parses the regular file open on fd (taking the fd). */
static bool mapElf(MappedElf* m, int fd) {
   *m = (MappedElf){ .fd = -1 };
   struct stat st;
   if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
      close(fd);
      return false;
   }
   void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
   if (map == MAP_FAILED) {
      close(fd);
      return false;
   }
   m->fd = fd;
   m->map = map;
   m->size = (size_t)st.st_size;
   char err[128];
   if (ElfReader_parse(&m->reader, map, m->size, err, sizeof(err)) < 0) {
      unmapElf(m);
      return false;
   }
   return true;
}

/* Paths come from a possibly hostile process: only regular files are opened
 * (no device side effects), and O_NONBLOCK keeps a FIFO swapped in after the
 * stat from blocking us; mapElf re-checks S_ISREG on the open fd. */
static int openRegular(const char* path) {
   struct stat st;
   if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      return -1;
   return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

/* Debug files may sit next to a user's binary: read through a sealed copy too. */
static bool mapElfPath(MappedElf* m, const char* path) {
   int fd = openRegular(path);
   if (fd >= 0)
      fd = Maps_sealedCopy(fd);
   return fd >= 0 && mapElf(m, fd);
}

/* The mapping's path without the " (deleted)" the kernel appends. */
static void mappedPath(const MapEntry* e, char* buf, size_t size) {
   size_t len = strlen(e->path);
   if (e->deleted)
      len -= strlen(" (deleted)");
   Util_format(buf, size, "%.*s", (int)len, e->path);
}

static bool sameBuildId(const ElfReader* a, const ElfReader* b) {
   return a->buildIdLen && a->buildIdLen == b->buildIdLen && memcmp(a->buildId, b->buildId, a->buildIdLen) == 0;
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug, accepted only with the same build-id. */
static bool loadDebugByBuildId(Module* m) {
   char hex[2 * sizeof(m->main.reader.buildId) + 1], path[256];
   if (!ElfReader_buildIdHex(&m->main.reader, hex, sizeof(hex)) || strlen(hex) < 3)
      return false;
   Util_format(path, sizeof(path), DEBUG_ROOT "/.build-id/%.2s/%s.debug", hex, hex + 2);
   if (!mapElfPath(&m->debug, path))
      return false;
   if (sameBuildId(&m->main.reader, &m->debug.reader))
      return true;
   unmapElf(&m->debug);
   return false;
}

/* .gnu_debuglink next to the binary, in .debug/, and under /usr/lib/debug/DIR,
 * accepted only when the CRC matches. */
static bool loadDebugByLink(Module* m, pid_t pid, const char* binaryPath) {
   const char* name = m->main.reader.debuglink;
   if (!name || binaryPath[0] != '/')
      return false;
   char dirBuf[4096];
   Util_format(dirBuf, sizeof(dirBuf), "%s", binaryPath);
   const char* dir = dirname(dirBuf);
   char candidates[4][4400];
   Util_format(candidates[0], sizeof(candidates[0]), "%s/%s", dir, name);
   Util_format(candidates[1], sizeof(candidates[1]), "%s/.debug/%s", dir, name);
   Util_format(candidates[2], sizeof(candidates[2]), DEBUG_ROOT "%s/%s", dir, name);
   Util_format(candidates[3], sizeof(candidates[3]), "/proc/%d/root%s/%s", (int)pid, dir, name);
   for (size_t i = 0; i < 4; i++) {
      if (strcmp(candidates[i], binaryPath) == 0 || !mapElfPath(&m->debug, candidates[i]))
         continue;
      if (m->debug.size > MAX_CRC_BYTES) {
         unmapElf(&m->debug);
         continue;
      }
      if (ElfReader_crc32(m->debug.map, m->debug.size) == m->main.reader.debuglinkCrc)
         return true;
      unmapElf(&m->debug);
   }
   return false;
}

static void loadDebugFile(Symbols* this, Module* m, pid_t pid, const char* binaryPath) {
   bool needNames = !m->main.reader.fromSymtab;
   bool needLines = this->lines && !m->main.reader.hasDebugInfo;
   if (!needNames && !needLines)
      return;
   if (!loadDebugByBuildId(m))
      loadDebugByLink(m, pid, binaryPath);
}

/* DWARF worth opening for lines: present, and cheap enough to inflate. */
static bool usableDwarf(const Symbols* this, const MappedElf* m) {
   return m->map && m->reader.hasDebugInfo && m->reader.compressedDebugSize <= this->inflateLimit;
}

static void finishModule(Symbols* this, Module* m) {
   m->names = &m->main.reader;
   if (m->debug.map && m->debug.reader.fromSymtab)
      m->names = &m->debug.reader;
   if (!this->lines)
      return;
   if (usableDwarf(this, &m->debug))
      m->dwarf = DebugInfo_open(m->debug.fd);
   else if (usableDwarf(this, &m->main))
      m->dwarf = DebugInfo_open(m->main.fd);
}

static Module* findByBuildId(const Symbols* this, const ElfReader* r) {
   for (size_t i = 0; i < this->moduleCount; i++)
      if (sameBuildId(&this->modules[i]->main.reader, r))
         return this->modules[i];
   return NULL;
}

/* Opens, parses and caches the ELF of a mapping seen for the first time. */
static Module* loadModule(Symbols* this, pid_t pid, const MapEntry* e) {
   int fd = Maps_openFile(pid, e);
   if (fd < 0)
      return NULL;
   Module* m = Util_xcalloc(1, sizeof(*m));
   m->debug.fd = -1;
   if (!mapElf(&m->main, fd)) {
      free(m);
      return NULL;
   }
   Module* known = findByBuildId(this, &m->main.reader);
   if (known) {
      freeModule(m);
      return known;
   }
   char path[4096];
   mappedPath(e, path, sizeof(path));
   loadDebugFile(this, m, pid, path);
   finishModule(this, m);
   Util_growArray((void**)&this->modules, &this->moduleCapacity, this->moduleCount, sizeof(Module*));
   this->modules[this->moduleCount++] = m;
   return m;
}

static int keyCompare(dev_t dev, ino_t inode, const FileKey* k) {
   if (dev != k->dev)
      return dev < k->dev ? -1 : 1;
   if (inode != k->inode)
      return inode < k->inode ? -1 : 1;
   return 0;
}

/* Index of the first key >= (dev, inode). */
static size_t keyPosition(const Symbols* this, dev_t dev, ino_t inode) {
   size_t lo = 0, hi = this->keyCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (keyCompare(dev, inode, &this->keys[mid]) > 0)
         lo = mid + 1;
      else
         hi = mid;
   }
   return lo;
}

static const FileKey* keyFor(Symbols* this, pid_t pid, const MapEntry* e) {
   dev_t dev = makedev(e->devMajor, e->devMinor);
   size_t pos = keyPosition(this, dev, e->inode);
   if (pos < this->keyCount && keyCompare(dev, e->inode, &this->keys[pos]) == 0)
      return &this->keys[pos];
   Module* m = loadModule(this, pid, e);
   Util_growArray((void**)&this->keys, &this->keyCapacity, this->keyCount, sizeof(FileKey));
   memmove(&this->keys[pos + 1], &this->keys[pos], (this->keyCount - pos) * sizeof(FileKey));
   this->keys[pos] = (FileKey){ .dev = dev, .inode = e->inode, .module = m, .path = Util_xstrdup(e->path) };
   this->keyCount++;
   return &this->keys[pos];
}

/* Function+offset from the best table, falling back to the binary's own. */
static const ElfSymbol* lookupName(const Module* m, uint64_t vaddr, uint64_t* offset) {
   const ElfSymbol* s = ElfReader_lookup(m->names, vaddr, offset);
   if (!s && m->names != &m->main.reader)
      s = ElfReader_lookup(&m->main.reader, vaddr, offset);
   return s;
}

/* Adds the DWARF frames: inlined ones first, then the real function whose
 * name and offset stay the ELF symbol's when it has one. */
static size_t addLines(Module* m, uint64_t vaddr, SymbolFrame* frames, size_t maxFrames) {
   DebugFrame dbg[MAX_INLINE_DEPTH];
   size_t n = DebugInfo_frames(m->dwarf, vaddr, dbg, MAX_INLINE_DEPTH);
   if (n == 0)
      return 1;
   /* Without room for the whole chain, the innermost inlined frames and the
    * real function (always last) are kept. */
   size_t inlined = n - 1 < maxFrames - 1 ? n - 1 : maxFrames - 1;
   SymbolFrame outer = frames[0];
   for (size_t i = 0; i < inlined; i++)
      frames[i] = (SymbolFrame){
         .function = dbg[i].function,
         .file = dbg[i].file,
         .line = dbg[i].line,
         .module = outer.module,
         .inlined = true,
      };
   SymbolFrame* last = &frames[inlined];
   *last = outer;
   last->file = dbg[n - 1].file;
   last->line = dbg[n - 1].line;
   if (!last->function)
      last->function = dbg[n - 1].function;
   return inlined + 1;
}

/* The vDSO is the kernel's and the same in every x86_64 process of this
 * kernel, so our own copy (AT_SYSINFO_EHDR, bounded by our [vdso] mapping)
 * names the target's [vdso] frames without reading its memory. */
static Module* vdsoModule(Symbols* this) {
   if (this->vdsoTried)
      return this->vdso;
   this->vdsoTried = true;
   uint64_t base = getauxval(AT_SYSINFO_EHDR);
   Maps self;
   char err[256];
   if (base == 0 || Maps_read(&self, getpid(), err, sizeof(err)) < 0)
      return NULL;
   const MapEntry* e = Maps_find(&self, base);
   if (e && strcmp(e->path, "[vdso]") == 0) {
      Module* m = Util_xcalloc(1, sizeof(*m));
      m->main = (MappedElf){ .fd = -1, .map = (void*)(uintptr_t)base, .size = e->end - base, .borrowed = true };
      m->debug.fd = -1;
      if (ElfReader_parse(&m->main.reader, m->main.map, m->main.size, err, sizeof(err)) == 0) {
         m->names = &m->main.reader;
         this->vdso = m;
      } else {
         free(m);
      }
   }
   Maps_free(&self);
   return this->vdso;
}

/* The cached module of a mapping and the name to report for it, or NULL. */
static Module* moduleFor(Symbols* this, pid_t pid, const MapEntry* e, const char** name) {
   if (strcmp(e->path, "[vdso]") == 0) {
      *name = "[vdso]";
      return vdsoModule(this);
   }
   if (e->inode == 0 || e->path[0] != '/')
      return NULL;
   const FileKey* key = keyFor(this, pid, e);
   *name = key->path;
   return key->module;
}

size_t Symbols_lookup(Symbols* this, pid_t pid, const Maps* maps, uint64_t addr, SymbolFrame* frames,
                      size_t maxFrames) {
   if (maxFrames == 0)
      return 0;
   frames[0] = (SymbolFrame){ 0 };
   const MapEntry* e = Maps_find(maps, addr);
   if (!e)
      return 1;
   Module* m = moduleFor(this, pid, e, &frames[0].module);
   uint64_t vaddr;
   if (!m || ElfReader_offsetToVaddr(&m->main.reader, addr - e->start + e->offset, &vaddr) < 0)
      return 1;
   const ElfSymbol* s = lookupName(m, vaddr, &frames[0].offset);
   if (s)
      frames[0].function = s->name;
   if (!m->dwarf)
      return 1;
   return addLines(m, vaddr, frames, maxFrames);
}
