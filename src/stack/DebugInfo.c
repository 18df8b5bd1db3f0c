/* libdw lookups for file:line and inline chains, only for the addresses asked. */
#include "stacktop/DebugInfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Util.h"

/* A source path made absolute by joining the CU's DW_AT_comp_dir, keyed by
 * libdw's own string (stable while the Dwarf is open). */
typedef struct JoinedPath_ {
   const char* raw;
   char* absolute; /* owned */
} JoinedPath;

struct DebugInfo_ {
   int fd; /* owned; libdw reads through it */
   Dwarf* dwarf;
   JoinedPath* paths; /* owned, with every .absolute */
   size_t pathCount, pathCapacity;
};

DebugInfo* DebugInfo_open(int fd) {
   /* libelf's one-time version handshake; idempotent. */
   if (elf_version(EV_CURRENT) == EV_NONE)
      return NULL;
   int own = dup(fd);
   if (own < 0)
      return NULL;
   Dwarf* dwarf = dwarf_begin(own, DWARF_C_READ);
   if (!dwarf) {
      close(own);
      return NULL;
   }
   DebugInfo* this = Util_xmalloc(sizeof(*this));
   *this = (DebugInfo){ .fd = own, .dwarf = dwarf };
   return this;
}

void DebugInfo_free(DebugInfo* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->pathCount; i++)
      free(this->paths[i].absolute);
   free(this->paths);
   dwarf_end(this->dwarf);
   close(this->fd);
   free(this);
}

/* Compilers record paths relative to the compilation directory (`cc -g
 * tests/x.c` gives "tests/x.c"); readers want a path they can open, as Go's
 * profiles print. Only the few files of the looked-up PCs are joined, once. */
static const char* absolutePath(DebugInfo* this, Dwarf_Die* cu, const char* file) {
   if (!file || file[0] == '/')
      return file;
   for (size_t i = 0; i < this->pathCount; i++) {
      if (this->paths[i].raw == file)
         return this->paths[i].absolute;
   }
   Dwarf_Attribute attr;
   const char* dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
   if (!dir || dir[0] != '/')
      return file;
   size_t size = strlen(dir) + 1 + strlen(file) + 1;
   char* joined = Util_xmalloc(size);
   snprintf(joined, size, "%s/%s", dir, file);
   Util_growArray((void**)&this->paths, &this->pathCapacity, this->pathCount, sizeof(*this->paths));
   this->paths[this->pathCount++] = (JoinedPath){ .raw = file, .absolute = joined };
   return joined;
}

static bool isFunctionScope(Dwarf_Die* die) {
   int tag = dwarf_tag(die);
   return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* DW_AT_call_file / DW_AT_call_line of an inlined instance: where it was called. */
static void callSite(Dwarf_Die* inlined, Dwarf_Files* files, size_t fileCount, const char** file, int* line) {
   Dwarf_Attribute attr;
   Dwarf_Word value;
   *file = NULL;
   *line = 0;
   if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) == 0)
      *line = (int)value;
   if (files && dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) == 0 && value < fileCount)
      *file = dwarf_filesrc(files, value, NULL, NULL);
}

/* Walks the concrete nesting of the innermost function scope outwards:
 * inlined_subroutine entries become inlined frames until the subprogram. */
static size_t walkChain(DebugInfo* this, Dwarf_Die* cu, Dwarf_Die* innermost, const char* file, int line,
                        DebugFrame* out, size_t maxFrames) {
   Dwarf_Die* chain = NULL;
   int n = dwarf_getscopes_die(innermost, &chain);
   Dwarf_Files* files = NULL;
   size_t fileCount = 0;
   if (dwarf_getsrcfiles(cu, &files, &fileCount) != 0)
      files = NULL;
   size_t count = 0;
   for (int i = 0; i < n && count < maxFrames; i++) {
      int tag = dwarf_tag(&chain[i]);
      if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
         continue;
      out[count++] = (DebugFrame){
         .function = dwarf_diename(&chain[i]),
         .file = absolutePath(this, cu, file),
         .line = line,
         .inlined = tag == DW_TAG_inlined_subroutine,
      };
      if (tag == DW_TAG_subprogram)
         break;
      callSite(&chain[i], files, fileCount, &file, &line);
   }
   free(chain);
   return count;
}

size_t DebugInfo_frames(DebugInfo* this, uint64_t vaddr, DebugFrame* out, size_t maxFrames) {
   Dwarf_Die cu;
   if (maxFrames == 0 || !dwarf_addrdie(this->dwarf, vaddr, &cu))
      return 0;
   const char* file = NULL;
   int line = 0;
   Dwarf_Line* dl = dwarf_getsrc_die(&cu, vaddr);
   if (dl) {
      file = dwarf_linesrc(dl, NULL, NULL);
      if (dwarf_lineno(dl, &line) != 0)
         line = 0;
   }
   Dwarf_Die* scopes = NULL;
   int n = dwarf_getscopes(&cu, vaddr, &scopes);
   size_t count = 0;
   for (int i = 0; i < n; i++) {
      if (isFunctionScope(&scopes[i])) {
         count = walkChain(this, &cu, &scopes[i], file, line, out, maxFrames);
         break;
      }
   }
   free(scopes);
   if (count == 0 && file) {
      /* Line info without a function scope (e.g. assembly): still worth a frame. */
      out[0] = (DebugFrame){ .function = NULL, .file = absolutePath(this, &cu, file), .line = line, .inlined = false };
      count = 1;
   }
   return count;
}
