/* Demangling with libiberty, cached: see Demangler.h. */
#include "stacktop/Demangler.h"

#include <libiberty/demangle.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

#define CXX_OPTIONS (DMGL_PARAMS | DMGL_ANSI | DMGL_RET_DROP)
/* A readable name longer than this is not readable: keep the raw one. */
#define MAX_SHOWN ((size_t)1 << 20)

/* One raw name seen, and what to show for it (NULL: the raw name). */
typedef struct Entry_ {
   const char* raw;
   char* shown; /* owned */
} Entry;

/* Open addressing on the raw pointer, linear probing, at most half full. */
struct Demangler_ {
   Entry* slots;
   size_t capacity, count;
};

/* The demangler's output, gathered by its callback. */
typedef struct Text_ {
   char* buf;
   size_t len, capacity;
   bool tooLong;
} Text;

static void append(const char* piece, size_t len, void* opaque) {
   Text* t = opaque;
   if (len == 0) /* rust-demangle.c passes (NULL, 0) at times */
      return;
   if (t->tooLong || len > MAX_SHOWN - t->len) {
      t->tooLong = true;
      return;
   }
   if (t->len + len + 1 > t->capacity) {
      t->capacity = (t->len + len + 1) * 2;
      t->buf = Util_xrealloc(t->buf, t->capacity);
   }
   memcpy(t->buf + t->len, piece, len);
   t->len += len;
   t->buf[t->len] = '\0';
}

/* Only the callback entry points: they live in cp-demangle.c and
 * rust-demangle.c, whose licence lets them be linked into any program
 * (cplus_demangle would also pull in cplus-dem.c and xmalloc.c). */
char* Demangler_demangle(const char* name) {
   if (!name || name[0] != '_' || strnlen(name, DEMANGLER_MAX_MANGLED + 1) > DEMANGLER_MAX_MANGLED)
      return NULL;
   Text t = { 0 };
   bool ok = false;
   /* _Z: legacy Rust (C++ mangling with a hash: tried first, as libiberty's
    * DMGL_AUTO does), else C++; _R: Rust v0. Nothing else is tried (GNAT, D
    * and Java styles would rewrite ordinary C names). */
   if (name[1] == 'Z' || name[1] == 'R')
      ok = rust_demangle_callback(name, 0, append, &t) != 0;
   if (!ok && name[1] == 'Z' && !t.tooLong) {
      t.len = 0;
      ok = cplus_demangle_v3_callback(name, CXX_OPTIONS, append, &t) != 0;
   }
   if (!ok || t.tooLong || t.len == 0) {
      free(t.buf);
      return NULL;
   }
   return t.buf;
}

Demangler* Demangler_new(void) {
   Demangler* this = Util_xcalloc(1, sizeof(*this));
   this->capacity = 256;
   this->slots = Util_xcalloc(this->capacity, sizeof(Entry));
   return this;
}

void Demangler_free(Demangler* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->capacity; i++)
      free(this->slots[i].shown);
   free(this->slots);
   free(this);
}

static size_t slotFor(const Demangler* this, const char* raw) {
   uint64_t h = (uint64_t)(uintptr_t)raw * 0x9e3779b97f4a7c15ull;
   size_t i = (size_t)(h >> 32) & (this->capacity - 1);
   while (this->slots[i].raw && this->slots[i].raw != raw)
      i = (i + 1) & (this->capacity - 1);
   return i;
}

static void grow(Demangler* this) {
   Entry* old = this->slots;
   size_t oldCapacity = this->capacity;
   this->capacity *= 2;
   this->slots = Util_xcalloc(this->capacity, sizeof(Entry));
   for (size_t i = 0; i < oldCapacity; i++) {
      if (old[i].raw)
         this->slots[slotFor(this, old[i].raw)] = old[i];
   }
   free(old);
}

const char* Demangler_name(Demangler* this, const char* name) {
   if (!name || name[0] != '_')
      return name;
   size_t i = slotFor(this, name);
   if (!this->slots[i].raw) {
      if (2 * (this->count + 1) > this->capacity) {
         grow(this);
         i = slotFor(this, name);
      }
      this->slots[i] = (Entry){ .raw = name, .shown = Demangler_demangle(name) };
      this->count++;
   }
   return this->slots[i].shown ? this->slots[i].shown : name;
}
