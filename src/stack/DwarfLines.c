/* One address's row of a DWARF line-number program: see DwarfLines.h.
 * DWARF 5, section 6.2. Every read goes through a Cursor that stops (and
 * marks itself bad) at the end of the unit. */
#include "stacktop/DwarfLines.h"

#include <dwarf.h>
#include <limits.h>
#include <string.h>

/* DWARF 5's directory/file entry formats: a handful of pairs in practice. */
#define MAX_ENTRY_FORMATS 16

typedef struct Cursor_ {
   const uint8_t* p;
   const uint8_t* end;
   bool bad;
} Cursor;

static bool need(Cursor* c, uint64_t n) {
   if (c->bad || n > (uint64_t)(c->end - c->p)) {
      c->bad = true;
      c->p = c->end;
      return false;
   }
   return true;
}

static uint64_t fixed(Cursor* c, unsigned n) {
   uint64_t v = 0;
   if (!need(c, n))
      return 0;
   for (unsigned i = 0; i < n; i++)
      v |= (uint64_t)c->p[i] << (8 * i);
   c->p += n;
   return v;
}

static uint64_t uleb(Cursor* c) {
   uint64_t v = 0;
   for (unsigned shift = 0; need(c, 1); shift += 7) {
      uint8_t b = *c->p++;
      if (shift < 64)
         v |= (uint64_t)(b & 0x7f) << shift;
      if (!(b & 0x80))
         return v;
   }
   return 0;
}

static int64_t sleb(Cursor* c) {
   uint64_t v = 0;
   unsigned shift = 0;
   uint8_t b = 0;
   do {
      if (!need(c, 1))
         return 0;
      b = *c->p++;
      if (shift < 64)
         v |= (uint64_t)(b & 0x7f) << shift;
      shift += 7;
   } while (b & 0x80);
   if (shift < 64 && (b & 0x40))
      v |= ~(uint64_t)0 << shift;
   return (int64_t)v;
}

static void skip(Cursor* c, uint64_t n) {
   if (need(c, n))
      c->p += n;
}

/* A NUL-terminated string inside the cursor's range. */
static const char* cstring(Cursor* c) {
   if (c->bad)
      return NULL;
   const uint8_t* nul = memchr(c->p, '\0', (size_t)(c->end - c->p));
   if (!nul) {
      c->bad = true;
      c->p = c->end;
      return NULL;
   }
   const char* s = (const char*)c->p;
   c->p = nul + 1;
   return s;
}

/* A NUL-terminated string at offset of a string section. */
static const char* sectionString(const uint8_t* sec, uint64_t size, uint64_t offset) {
   if (!sec || offset >= size || !memchr(sec + offset, '\0', (size_t)(size - offset)))
      return NULL;
   return (const char*)sec + offset;
}

/* ---- the header -------------------------------------------------------------- */

typedef struct Header_ {
   uint16_t version;
   unsigned offsetSize;
   unsigned addressSize; /* DWARF 5 says; else 8 (x86-64) */
   uint8_t minInst, maxOps, lineRange, opcodeBase;
   int8_t lineBase;
   const uint8_t* stdLengths; /* opcodeBase - 1 entries */
   Cursor tables;             /* directories and files */
   Cursor program;
} Header;

static bool readHeader(const DwarfLinesInput* in, Header* h) {
   if (!in->line || in->offset >= in->lineSize)
      return false;
   Cursor c = { in->line + in->offset, in->line + in->lineSize, false };
   uint64_t length = fixed(&c, 4);
   *h = (Header){ .offsetSize = 4, .addressSize = 8, .maxOps = 1 };
   if (length == 0xffffffffu) {
      length = fixed(&c, 8);
      h->offsetSize = 8;
   }
   if (!need(&c, length))
      return false;
   c.end = c.p + length;
   h->version = (uint16_t)fixed(&c, 2);
   if (h->version < 2 || h->version > 5)
      return false;
   if (h->version >= 5) {
      h->addressSize = (unsigned)fixed(&c, 1);
      skip(&c, 1); /* segment selector size */
   }
   uint64_t headerLength = fixed(&c, h->offsetSize);
   if (!need(&c, headerLength))
      return false;
   h->program = (Cursor){ c.p + headerLength, c.end, false };
   c.end = c.p + headerLength;
   h->minInst = (uint8_t)fixed(&c, 1);
   if (h->version >= 4)
      h->maxOps = (uint8_t)fixed(&c, 1);
   skip(&c, 1); /* default_is_stmt */
   h->lineBase = (int8_t)fixed(&c, 1);
   h->lineRange = (uint8_t)fixed(&c, 1);
   h->opcodeBase = (uint8_t)fixed(&c, 1);
   h->stdLengths = c.p;
   skip(&c, h->opcodeBase ? h->opcodeBase - 1u : 0);
   h->tables = c;
   return !c.bad && h->lineRange != 0 && h->maxOps != 0 && h->opcodeBase != 0 &&
          (h->addressSize == 4 || h->addressSize == 8);
}

/* ---- running the program ---------------------------------------------------------- */

/* The registers that matter here. */
typedef struct State_ {
   uint64_t address, opIndex, file;
   int64_t line;
} State;

/* The best row so far: see DwarfLines.h for the order. `last*` is the row
 * that sorts last in the whole unit: libdw marks that one as ending a
 * sequence whatever the program says. */
typedef struct Best_ {
   bool any, normal;
   uint64_t address, file;
   int64_t line;
   bool lastAny, lastNormal;
   uint64_t lastAddress;
} Best;

/* Whether a row (address, normal) sorts at or after (other, otherNormal):
 * by address, then a row ending a sequence before one that does not, then
 * in program order (the later row, being seen later, wins ties). */
static bool sortsAfter(uint64_t address, bool normal, uint64_t other, bool otherNormal) {
   return address > other || (address == other && (normal || !otherNormal));
}

/* Lines stay within int (a hostile program's advances could overflow). */
static void addLine(State* s, int64_t delta) {
   if (delta < INT_MIN || delta > INT_MAX)
      delta = 0;
   s->line += delta;
   if (s->line < INT_MIN || s->line > INT_MAX)
      s->line = 0;
}

static void resetState(State* s) {
   *s = (State){ .file = 1, .line = 1 };
}

static void advance(const Header* h, State* s, uint64_t operations) {
   if (h->maxOps == 1) {
      s->address += h->minInst * operations;
      return;
   }
   uint64_t total = s->opIndex + operations;
   s->address += h->minInst * (total / h->maxOps);
   s->opIndex = total % h->maxOps;
}

static void emit(Best* best, const State* s, bool endSequence, uint64_t vaddr) {
   bool normal = !endSequence;
   if (!best->lastAny || sortsAfter(s->address, normal, best->lastAddress, best->lastNormal)) {
      best->lastAny = true;
      best->lastAddress = s->address;
      best->lastNormal = normal;
   }
   if (s->address > vaddr || (best->any && !sortsAfter(s->address, normal, best->address, best->normal)))
      return;
   best->any = true;
   best->normal = normal;
   best->address = s->address;
   best->file = s->file;
   best->line = s->line;
}

/* One extended opcode (after its 0 byte). */
static void extended(const Header* h, Cursor* c, State* s, Best* best, uint64_t vaddr) {
   uint64_t len = uleb(c);
   if (len == 0 || !need(c, len)) {
      c->bad = true;
      return;
   }
   Cursor op = { c->p, c->p + len, false };
   c->p += len;
   switch (fixed(&op, 1)) {
   case DW_LNE_end_sequence:
      emit(best, s, true, vaddr);
      resetState(s);
      return;
   case DW_LNE_set_address:
      s->address = fixed(&op, len - 1 == 4 ? 4 : h->addressSize);
      s->opIndex = 0;
      return;
   default: return; /* define_file, set_discriminator, vendor ones */
   }
}

/* One standard opcode below opcodeBase. */
static void standard(const Header* h, Cursor* c, State* s, Best* best, uint64_t vaddr, uint8_t op) {
   switch (op) {
   case DW_LNS_copy: emit(best, s, false, vaddr); return;
   case DW_LNS_advance_pc: advance(h, s, uleb(c)); return;
   case DW_LNS_advance_line: addLine(s, sleb(c)); return;
   case DW_LNS_set_file: s->file = uleb(c); return;
   case DW_LNS_const_add_pc: advance(h, s, (255u - h->opcodeBase) / h->lineRange); return;
   case DW_LNS_fixed_advance_pc:
      s->address += fixed(c, 2);
      s->opIndex = 0;
      return;
   case DW_LNS_negate_stmt:
   case DW_LNS_set_basic_block:
   case DW_LNS_set_prologue_end:
   case DW_LNS_set_epilogue_begin: return;
   default:
      /* set_column, set_isa and opcodes we do not know: skip their operands. */
      for (uint8_t i = 0; i < h->stdLengths[op - 1]; i++)
         uleb(c);
      return;
   }
}

bool DwarfLines_find(const DwarfLinesInput* in, uint64_t vaddr, DwarfLineRow* row) {
   Header h;
   if (!readHeader(in, &h))
      return false;
   Cursor c = h.program;
   State s;
   resetState(&s);
   Best best = { 0 };
   while (c.p < c.end && !c.bad) {
      uint8_t op = (uint8_t)fixed(&c, 1);
      if (op >= h.opcodeBase) {
         uint8_t adjusted = op - h.opcodeBase;
         advance(&h, &s, adjusted / h.lineRange);
         addLine(&s, h.lineBase + adjusted % h.lineRange);
         emit(&best, &s, false, vaddr);
      } else if (op == 0) {
         extended(&h, &c, &s, &best, vaddr);
      } else {
         standard(&h, &c, &s, &best, vaddr, op);
      }
   }
   bool isLast = best.address == best.lastAddress && best.normal == best.lastNormal;
   if (!best.any || !best.normal || isLast)
      return false;
   *row = (DwarfLineRow){ .file = best.file, .line = best.line > 0 ? (int)best.line : 0 };
   return true;
}

/* ---- the file table ---------------------------------------------------------------- */

/* A path-valued attribute of a DWARF 5 entry (NULL for other forms), or
 * skips a value of that form; false for forms that cannot be skipped. */
static bool readForm(const DwarfLinesInput* in, const Header* h, Cursor* c, uint64_t form, const char** text,
                     uint64_t* number) {
   *text = NULL;
   *number = 0;
   switch (form) {
   case DW_FORM_string: *text = cstring(c); return !c->bad;
   case DW_FORM_line_strp: *text = sectionString(in->lineStr, in->lineStrSize, fixed(c, h->offsetSize)); return true;
   case DW_FORM_strp: *text = sectionString(in->str, in->strSize, fixed(c, h->offsetSize)); return true;
   case DW_FORM_udata: *number = uleb(c); return true;
   case DW_FORM_data1: *number = fixed(c, 1); return true;
   case DW_FORM_data2: *number = fixed(c, 2); return true;
   case DW_FORM_data4: *number = fixed(c, 4); return true;
   case DW_FORM_data8: *number = fixed(c, 8); return true;
   case DW_FORM_data16: skip(c, 16); return true;
   case DW_FORM_block: skip(c, uleb(c)); return true;
   case DW_FORM_block1: skip(c, fixed(c, 1)); return true;
   default: return false;
   }
}

/* Entry `index` of the DWARF 5 directory or file table at c (c is left
 * after the table, or bad): its path and directory index. False when the
 * table has no such entry. */
static bool entryV5(const DwarfLinesInput* in, const Header* h, Cursor* c, uint64_t index, const char** path,
                    uint64_t* dir) {
   uint64_t formats[MAX_ENTRY_FORMATS][2] = { { 0 } };
   unsigned formatCount = (unsigned)fixed(c, 1);
   if (formatCount > MAX_ENTRY_FORMATS)
      c->bad = true;
   for (unsigned i = 0; i < formatCount && !c->bad; i++) {
      formats[i][0] = uleb(c);
      formats[i][1] = uleb(c);
   }
   uint64_t count = uleb(c);
   if (formatCount == 0) /* entries of nothing: no path, and no bytes to walk */
      return false;
   bool found = false;
   for (uint64_t e = 0; e < count && !c->bad; e++) {
      for (unsigned i = 0; i < formatCount && !c->bad; i++) {
         const char* text;
         uint64_t number;
         if (!readForm(in, h, c, formats[i][1], &text, &number))
            c->bad = true;
         else if (e == index && formats[i][0] == DW_LNCT_path)
            *path = text;
         else if (e == index && formats[i][0] == DW_LNCT_directory_index)
            *dir = number;
      }
      found = found || e == index;
   }
   return found && !c->bad;
}

static bool fileV5(const DwarfLinesInput* in, const Header* h, uint64_t index, const char** dir, const char** name) {
   Cursor c = h->tables, dirs = h->tables;
   const char* ignored = NULL;
   uint64_t dirIndex = 0, ignoredDir = 0;
   entryV5(in, h, &c, UINT64_MAX, &ignored, &ignoredDir); /* past the directories */
   if (c.bad || !entryV5(in, h, &c, index, name, &dirIndex) || !*name)
      return false;
   const char* d = NULL;
   *dir = entryV5(in, h, &dirs, dirIndex, &d, &ignoredDir) ? d : NULL;
   return true;
}

/* DWARF 2-4: include_directories then file_names, each list ending with an
 * empty string; files count from 1, directory 0 is the compilation one. */
static bool fileV4(const DwarfLinesInput* in, const Header* h, uint64_t index, const char** dir, const char** name) {
   Cursor c = h->tables;
   Cursor dirs = c;
   for (const char* d = cstring(&c); d && *d; d = cstring(&c))
      ;
   uint64_t wantDir = 0;
   for (uint64_t i = 1; !c.bad && !*name; i++) {
      const char* n = cstring(&c);
      if (!n || !*n)
         return false;
      uint64_t d = uleb(&c);
      uleb(&c); /* mtime */
      uleb(&c); /* length */
      if (i == index) {
         *name = n;
         wantDir = d;
      }
   }
   if (c.bad || !*name)
      return false;
   *dir = wantDir == 0 ? in->compDir : NULL;
   for (uint64_t i = 1; i <= wantDir && !dirs.bad; i++) {
      const char* d = cstring(&dirs);
      if (!d || !*d)
         break;
      if (i == wantDir)
         *dir = d;
   }
   return true;
}

bool DwarfLines_file(const DwarfLinesInput* in, uint64_t index, const char** dir, const char** name) {
   Header h;
   *dir = *name = NULL;
   if (!readHeader(in, &h))
      return false;
   return h.version >= 5 ? fileV5(in, &h, index, dir, name) : fileV4(in, &h, index, dir, name);
}
