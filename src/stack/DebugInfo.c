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

/* ---- types and variables ------------------------------------------------- */

/* A top-level DIE with this tag and name in the CU, or in any CU when the
 * named one does not have it (Go writes one CU per package). */
static bool findTopLevel(DebugInfo* this, const char* unitName, int tag, const char* name, Dwarf_Die* out) {
   for (int pass = 0; pass < 2; pass++) {
      Dwarf_Off offset = 0, next;
      size_t headerSize;
      while (dwarf_nextcu(this->dwarf, offset, &next, &headerSize, NULL, NULL, NULL) == 0) {
         Dwarf_Die cu, child;
         Dwarf_Off at = offset + headerSize;
         offset = next;
         if (!dwarf_offdie(this->dwarf, at, &cu))
            continue;
         const char* cuName = dwarf_diename(&cu);
         bool named = cuName && unitName && strcmp(cuName, unitName) == 0;
         if ((pass == 0) != named || dwarf_child(&cu, &child) != 0)
            continue;
         do {
            const char* n = dwarf_diename(&child);
            if (dwarf_tag(&child) == tag && n && strcmp(n, name) == 0 && !dwarf_hasattr(&child, DW_AT_declaration)) {
               *out = child;
               return true;
            }
         } while (dwarf_siblingof(&child, &child) == 0);
      }
   }
   return false;
}

bool DebugInfo_structMembers(DebugInfo* this, const char* unitName, const char* structName, const char* const* members,
                             size_t count, int64_t* offsets) {
   Dwarf_Die type, member;
   if (!findTopLevel(this, unitName, DW_TAG_structure_type, structName, &type))
      return false;
   for (size_t i = 0; i < count; i++)
      offsets[i] = -1;
   if (dwarf_child(&type, &member) != 0)
      return true;
   do {
      const char* name = dwarf_diename(&member);
      Dwarf_Attribute attr;
      Dwarf_Word location;
      if (dwarf_tag(&member) != DW_TAG_member || !name ||
          dwarf_formudata(dwarf_attr(&member, DW_AT_data_member_location, &attr), &location) != 0)
         continue;
      for (size_t i = 0; i < count; i++)
         if (strcmp(name, members[i]) == 0)
            offsets[i] = (int64_t)location;
   } while (dwarf_siblingof(&member, &member) == 0);
   return true;
}

bool DebugInfo_variableAddress(DebugInfo* this, const char* unitName, const char* name, uint64_t* addr) {
   Dwarf_Die var;
   Dwarf_Attribute attr;
   Dwarf_Op* ops;
   size_t n;
   if (!findTopLevel(this, unitName, DW_TAG_variable, name, &var) ||
       dwarf_getlocation(dwarf_attr(&var, DW_AT_location, &attr), &ops, &n) != 0 || n != 1 || ops[0].atom != DW_OP_addr)
      return false;
   *addr = ops[0].number;
   return true;
}
