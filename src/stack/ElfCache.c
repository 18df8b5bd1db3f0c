/* ELF files of targets and address resolution: see ElfCache.h.
 *
 * A mapping is identified by its device+inode from /proc/PID/maps (FileKey,
 * sorted, binary-searched). The first time an identity is seen its file is
 * opened through Maps_openFile (a sealed copy) and parsed once; files with
 * the same build-id share one ElfFile. */
#include "stacktop/ElfCache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "stacktop/Util.h"

#define PAGE_MASK (~(uint64_t)0xfff)

/* A file identity seen in some process's maps. */
typedef struct FileKey_ {
   dev_t dev;
   ino_t inode;
   ElfFile* file; /* NULL when the file could not be opened or parsed */
   char* path;    /* the maps path first seen, as the target names it */
} FileKey;

struct ElfCache_ {
   ElfFile** files; /* owned */
   size_t fileCount, fileCapacity;
   FileKey* keys; /* sorted by (dev, inode) */
   size_t keyCount, keyCapacity;
   ElfFile* vdso; /* owned; our own vDSO */
   bool vdsoTried;
   size_t failures;
};

ElfCache* ElfCache_new(void) {
   return Util_xcalloc(1, sizeof(ElfCache));
}

void ElfCache_free(ElfCache* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->fileCount; i++)
      ElfFile_free(this->files[i]);
   for (size_t i = 0; i < this->keyCount; i++)
      free(this->keys[i].path);
   ElfFile_free(this->vdso);
   free(this->files);
   free(this->keys);
   free(this);
}

size_t ElfCache_failures(const ElfCache* this) {
   return this->failures;
}

/* ---- files --------------------------------------------------------------- */

static bool sameBuildId(const ElfReader* a, const ElfReader* b) {
   return a->buildIdLen && a->buildIdLen == b->buildIdLen && memcmp(a->buildId, b->buildId, a->buildIdLen) == 0;
}

/* The mapping's path without the " (deleted)" the kernel appends. */
static void mappedPath(const MapEntry* e, char* buf, size_t size) {
   size_t len = strlen(e->path);
   if (e->deleted)
      len -= strlen(" (deleted)");
   Util_format(buf, size, "%.*s", (int)len, e->path);
}

static ElfFile* openFile(ElfCache* this, pid_t pid, const MapEntry* e) {
   char path[4096];
   mappedPath(e, path, sizeof(path));
   ElfFile* file = ElfFile_open(Maps_openFile(pid, e), path, pid);
   if (!file) {
      this->failures++;
      return NULL;
   }
   for (size_t i = 0; i < this->fileCount; i++) {
      if (sameBuildId(&this->files[i]->reader, &file->reader)) {
         ElfFile_free(file);
         return this->files[i];
      }
   }
   Util_growArray((void**)&this->files, &this->fileCapacity, this->fileCount, sizeof(ElfFile*));
   this->files[this->fileCount++] = file;
   return file;
}

static int keyCompare(dev_t dev, ino_t inode, const FileKey* k) {
   if (dev != k->dev)
      return dev < k->dev ? -1 : 1;
   if (inode != k->inode)
      return inode < k->inode ? -1 : 1;
   return 0;
}

/* Index of the first key >= (dev, inode). */
static size_t keyPosition(const ElfCache* this, dev_t dev, ino_t inode) {
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

static const FileKey* keyFor(ElfCache* this, pid_t pid, const MapEntry* e) {
   dev_t dev = makedev(e->devMajor, e->devMinor);
   size_t pos = keyPosition(this, dev, e->inode);
   if (pos < this->keyCount && keyCompare(dev, e->inode, &this->keys[pos]) == 0)
      return &this->keys[pos];
   ElfFile* file = openFile(this, pid, e);
   Util_growArray((void**)&this->keys, &this->keyCapacity, this->keyCount, sizeof(FileKey));
   memmove(&this->keys[pos + 1], &this->keys[pos], (this->keyCount - pos) * sizeof(FileKey));
   this->keys[pos] = (FileKey){ .dev = dev, .inode = e->inode, .file = file, .path = Util_xstrdup(e->path) };
   this->keyCount++;
   return &this->keys[pos];
}

static ElfFile* vdsoFile(ElfCache* this) {
   if (!this->vdsoTried) {
      this->vdsoTried = true;
      this->vdso = ElfFile_openVdso();
   }
   return this->vdso;
}

/* ---- objects and load bias ------------------------------------------------- */

static bool sameFile(const MapEntry* a, const MapEntry* b) {
   return a->inode == b->inode && a->devMajor == b->devMajor && a->devMinor == b->devMinor &&
          strcmp(a->path, b->path) == 0;
}

/* The PT_LOAD a mapping was made from: the kernel maps each one at
 * bias + pagedown(p_vaddr) from file offset pagedown(p_offset), so the
 * mapping's offset lies in [pagedown(p_offset), p_offset + p_filesz). lld and
 * mold start a segment inside the page where the previous one ends, so the
 * offset alone can fit two segments: an executable mapping is matched to an
 * executable segment (when `strict`), and an exact page offset wins. */
static const ElfLoad* loadForMapping(const ElfReader* r, const MapEntry* e, bool strict) {
   const ElfLoad* best = NULL;
   for (size_t i = 0; i < r->loadCount; i++) {
      const ElfLoad* l = &r->loads[i];
      uint64_t pageOff = l->offset & PAGE_MASK;
      if (e->offset < pageOff || e->offset >= l->offset + l->filesz)
         continue;
      if (strict && e->exec != ((l->flags & 1u /* PF_X */) != 0))
         continue;
      if (!best || pageOff == e->offset)
         best = l;
   }
   return best;
}

static bool biasFrom(const ElfReader* r, const MapEntry* e, bool strict, uint64_t* bias) {
   const ElfLoad* l = loadForMapping(r, e, strict);
   if (!l)
      return false;
   *bias = e->start - ((l->vaddr & PAGE_MASK) + (e->offset - (l->offset & PAGE_MASK)));
   return true;
}

/* One bias per object: code is what we resolve, so its mapping decides;
 * an object without one (data only) takes its first mapping that fits, and
 * permissions changed by mprotect get a last, offset-only chance. */
static bool objectBias(const ElfReader* r, const Maps* maps, size_t first, size_t last, uint64_t* bias) {
   for (size_t i = first; i <= last; i++) {
      if (maps->entries[i].exec && biasFrom(r, &maps->entries[i], true, bias))
         return true;
   }
   for (int strict = 1; strict >= 0; strict--) {
      for (size_t i = first; i <= last; i++) {
         if (biasFrom(r, &maps->entries[i], strict, bias))
            return true;
      }
   }
   return false;
}

bool ElfCache_object(ElfCache* this, pid_t pid, const Maps* maps, size_t i, ElfObject* out) {
   if (i >= maps->count)
      return false;
   const MapEntry* e = &maps->entries[i];
   ElfFile* file = NULL;
   const char* name = e->path;
   if (strcmp(e->path, "[vdso]") == 0)
      file = vdsoFile(this);
   else if (e->inode != 0 && e->path[0] == '/') {
      const FileKey* key = keyFor(this, pid, e);
      file = key->file;
      name = key->path;
   }
   if (!file)
      return false;
   size_t first = i, last = i;
   while (first > 0 && sameFile(&maps->entries[first - 1], e))
      first--;
   while (last + 1 < maps->count && sameFile(&maps->entries[last + 1], e))
      last++;
   uint64_t bias;
   if (!objectBias(&file->reader, maps, first, last, &bias))
      return false;
   *out = (ElfObject){ .file = file,
                       .bias = bias,
                       .lo = maps->entries[first].start,
                       .hi = maps->entries[last].end,
                       .mapping = e,
                       .name = name };
   return true;
}

bool ElfCache_resolve(ElfCache* this, pid_t pid, const Maps* maps, uint64_t addr, ElfObject* out, uint64_t* vaddr) {
   const MapEntry* e = Maps_find(maps, addr);
   if (!e || !ElfCache_object(this, pid, maps, (size_t)(e - maps->entries), out))
      return false;
   *vaddr = addr - out->bias;
   return true;
}
