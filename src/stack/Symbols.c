/* Symbolization: ELF files come from the ElfCache (each opened and parsed
 * once for the life of the Symbols object), names from the best function
 * table of the file (a separate debug file's .symtab wins over .dynsym),
 * file:line and inlined frames from DWARF through libdw. Nothing is opened
 * or scanned per lookup after the first one of a file. */
#include "stacktop/Symbols.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/DebugInfo.h"
#include "stacktop/Demangler.h"
#include "stacktop/ElfCache.h"
#include "stacktop/GoBinary.h"
#include "stacktop/GoProfile.h"
#include "stacktop/Util.h"

/* DebugFrame scratch per lookup: deeper inline nests are cut. */
#define MAX_INLINE_DEPTH 32

struct Symbols_ {
   bool lines;
   bool demangle;
   ElfCache* cache;      /* owned */
   Demangler* demangler; /* owned */
   char** names;         /* Go display names made here (generics as [...]); owned */
   size_t nameCount, nameCapacity;
};

Symbols* Symbols_new(bool lines) {
   Symbols* this = Util_xcalloc(1, sizeof(*this));
   this->lines = lines;
   this->demangle = true;
   this->cache = ElfCache_new();
   this->demangler = Demangler_new();
   return this;
}

void Symbols_free(Symbols* this) {
   if (!this)
      return;
   ElfCache_free(this->cache);
   Demangler_free(this->demangler);
   for (size_t i = 0; i < this->nameCount; i++)
      free(this->names[i]);
   free(this->names);
   free(this);
}

ElfCache* Symbols_cache(Symbols* this) {
   return this->cache;
}

void Symbols_setDemangle(Symbols* this, bool demangle) {
   this->demangle = demangle;
}

/* The one place C++ and Rust names are demangled, for every output format. */
static size_t demangled(Symbols* this, SymbolFrame* frames, size_t n) {
   for (size_t i = 0; this->demangle && i < n; i++)
      frames[i].function = Demangler_name(this->demangler, frames[i].function);
   return n;
}

/* Adds the DWARF frames: inlined ones first, then the real function whose
 * name and offset stay the ELF symbol's when it has one. */
static size_t addLines(DebugInfo* dwarf, uint64_t vaddr, SymbolFrame* frames, size_t maxFrames) {
   DebugFrame dbg[MAX_INLINE_DEPTH];
   size_t n = DebugInfo_frames(dwarf, vaddr, dbg, MAX_INLINE_DEPTH);
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

/* Go's name as it prints it; names with type arguments get a kept copy. */
static const char* goName(Symbols* this, const char* name) {
   if (!name || !strchr(name, '['))
      return name;
   Util_growArray((void**)&this->names, &this->nameCapacity, this->nameCount, sizeof(char*));
   this->names[this->nameCount] = GoProfile_displayName(name);
   return this->names[this->nameCount++];
}

/* Go code: names, file:line and inlined calls from the pclntab, as Go's
 * own tracebacks print them (offsets from the physical function). */
static size_t goFrames(Symbols* this, const GoBinary* go, const char* module, uint64_t vaddr, SymbolFrame* frames,
                       size_t maxFrames) {
   PclntabFrame levels[MAX_INLINE_DEPTH];
   size_t n = Pclntab_frames(&go->pclntab, vaddr, levels, maxFrames < MAX_INLINE_DEPTH ? maxFrames : MAX_INLINE_DEPTH);
   if (n == 0)
      return 1;
   for (size_t i = 0; i < n; i++)
      frames[i] = (SymbolFrame){ .function = goName(this, levels[i].function),
                                 .offset = vaddr - levels[i].entry,
                                 .file = levels[i].file,
                                 .line = levels[i].line,
                                 .module = module,
                                 .inlined = levels[i].inlined };
   return n;
}

size_t Symbols_lookup(Symbols* this, pid_t pid, const Maps* maps, uint64_t addr, SymbolFrame* frames,
                      size_t maxFrames) {
   if (maxFrames == 0)
      return 0;
   frames[0] = (SymbolFrame){ 0 };
   ElfObject obj;
   uint64_t vaddr;
   if (!ElfCache_resolve(this->cache, pid, maps, addr, &obj, &vaddr)) {
      const MapEntry* e = Maps_find(maps, addr);
      if (e && e->path[0] == '/')
         frames[0].module = e->path;
      return 1;
   }
   frames[0].module = obj.name;
   const GoBinary* go = ElfFile_go(obj.file);
   if (go && GoBinary_inText(go, vaddr))
      return goFrames(this, go, obj.name, vaddr, frames, maxFrames);
   const ElfSymbol* s = ElfFile_lookup(obj.file, vaddr, &frames[0].offset);
   if (s)
      frames[0].function = s->name;
   DebugInfo* dwarf = this->lines ? ElfFile_dwarf(obj.file) : NULL;
   return demangled(this, frames, dwarf ? addLines(dwarf, vaddr, frames, maxFrames) : 1);
}
