/* Locating a live Go process's runtime: see GoProcess.h. */
#include "stacktop/GoProcess.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "stacktop/Arch.h"
#include "stacktop/ElfCache.h"
#include "stacktop/ProcessMemory.h"
#include "stacktop/Util.h"

/* g's checked when validating a candidate allgs (F1.6). */
#define VALIDATE_GS 16
/* .bss scanned at most (F1.5). */
#define MAX_BSS_SCAN ((uint64_t)64 << 20)

static uint64_t u64At(const uint8_t* p) {
   uint64_t v;
   memcpy(&v, p, sizeof(v));
   return v;
}

bool GoProcess_plausiblePointer(uint64_t p) {
   return p && p % 8 == 0 && p < ARCH_USER_ADDR_LIMIT;
}

static bool plausibleHeader(const uint64_t hdr[3]) {
   return GoProcess_plausiblePointer(hdr[0]) && hdr[1] > 0 && hdr[1] <= hdr[2] && hdr[2] < GO_PROCESS_MAX_ALLGS;
}

/* The loaded object of /proc/PID/exe (by device and inode), else the first
 * file mapped at offset 0. */
static bool findExecutable(pid_t pid, const Maps* maps, ElfCache* cache, ElfObject* out) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/exe", (int)pid);
   struct stat st;
   bool haveStat = stat(path, &st) == 0;
   for (size_t i = 0; i < maps->count; i++) {
      const MapEntry* e = &maps->entries[i];
      if (haveStat && e->inode == st.st_ino && makedev(e->devMajor, e->devMinor) == st.st_dev)
         return ElfCache_object(cache, pid, maps, i, out);
   }
   for (size_t i = 0; i < maps->count; i++) {
      const MapEntry* e = &maps->entries[i];
      if (e->inode && e->path[0] == '/' && e->offset == 0)
         return ElfCache_object(cache, pid, maps, i, out);
   }
   return false;
}

/* F1.6: a slice header {ptr, len, cap} whose first elements are g's whose
 * sched.g points back at themselves, the first being goroutine 1. */
static bool validAllgs(const GoProcess* this, pid_t pid, uint64_t addr, uint64_t* len) {
   const GoGOffsets* o = &this->bin->layout->g;
   uint64_t hdr[3];
   if (!ProcessMemory_read(pid, addr, hdr, sizeof(hdr)) || !plausibleHeader(hdr))
      return false;
   uint64_t gs[VALIDATE_GS];
   size_t n = hdr[1] < VALIDATE_GS ? (size_t)hdr[1] : VALIDATE_GS;
   if (!ProcessMemory_read(pid, hdr[0], gs, n * sizeof(uint64_t)))
      return false;
   for (size_t i = 0; i < n; i++) {
      uint8_t g[0x100];
      size_t need = (o->goid > o->schedG ? o->goid : o->schedG) + 8;
      if (!GoProcess_plausiblePointer(gs[i]) || need > sizeof(g) || !ProcessMemory_read(pid, gs[i], g, need))
         return false;
      if (u64At(g + o->schedG) != gs[i] || (i == 0 && u64At(g + o->goid) != 1))
         return false;
   }
   *len = hdr[1];
   return true;
}

/* F1.5: every 8-aligned {ptr, len, cap} of the live .bss that validates. */
static uint64_t scanBss(const GoProcess* this, pid_t pid, uint64_t* len) {
   const GoModuleData* md = &this->bin->moduledata;
   if (md->ebss <= md->bss || md->ebss - md->bss > MAX_BSS_SCAN)
      return 0;
   size_t size = (size_t)(md->ebss - md->bss);
   uint8_t* bss = Util_xmalloc(size);
   uint64_t found = 0;
   if (ProcessMemory_read(pid, md->bss + this->bias, bss, size)) {
      for (size_t off = 0; off + 24 <= size && !found; off += 8) {
         uint64_t hdr[3] = { u64At(bss + off), u64At(bss + off + 8), u64At(bss + off + 16) };
         if (plausibleHeader(hdr) && validAllgs(this, pid, md->bss + this->bias + off, len))
            found = md->bss + this->bias + off;
      }
   }
   free(bss);
   return found;
}

void GoProcess_locateAllgs(GoProcess* this, pid_t pid) {
   const GoBinary* bin = this->bin;
   this->allgs = 0;
   this->allgsSource = NULL;
   this->allgLen = 0;
   if (bin->problem[0] || !bin->layout)
      return;
   for (size_t i = 0; i < bin->allgsCandidateCount; i++) {
      uint64_t addr = bin->allgsCandidates[i] + this->bias;
      if (validAllgs(this, pid, addr, &this->allgLen)) {
         this->allgs = addr;
         this->allgsSource = bin->allgsSource;
         return;
      }
   }
   this->allgs = scanBss(this, pid, &this->allgLen);
   if (this->allgs)
      this->allgsSource = "a scan of .bss";
}

bool GoProcess_locate(GoProcess* out, pid_t pid, const Maps* maps, ElfCache* cache) {
   *out = (GoProcess){ 0 };
   ElfObject exe;
   if (!findExecutable(pid, maps, cache, &exe))
      return false;
   GoBinary* bin = ElfFile_go(exe.file);
   if (!bin)
      return false;
   *out = (GoProcess){ .bin = bin, .exe = exe.file, .bias = exe.bias };
   GoProcess_locateAllgs(out, pid);
   /* The release table does not fit this process: an unstripped binary's
    * DWARF may say why (a patched or newer runtime). */
   if (!out->allgs && !bin->problem[0] && GoBinary_useDwarfLayout(bin, exe.file))
      GoProcess_locateAllgs(out, pid);
   return true;
}

bool GoProcess_readAllgs(const GoProcess* this, pid_t pid, uint64_t* ptr, uint64_t* len) {
   uint64_t hdr[3];
   if (!this->allgs || !ProcessMemory_read(pid, this->allgs, hdr, sizeof(hdr)) || !plausibleHeader(hdr))
      return false;
   *ptr = hdr[0];
   *len = hdr[1];
   return true;
}
