/* Escaping of untrusted strings; see Printable.h. */
#include "stacktop/Printable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* Length of the valid, harmless UTF-8 sequence at s (at most left bytes), or
 * 0 when the byte at s must be escaped. */
static size_t safeSequence(const unsigned char* s, size_t left, bool keepLines) {
   unsigned char c = s[0];
   if (c < 0x80) {
      if (keepLines && (c == '\n' || c == '\t'))
         return 1;
      return (c < 0x20 || c == 0x7f) ? 0 : 1;
   }
   size_t n;
   uint32_t cp;
   if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
   } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
   } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
   } else {
      return 0; /* continuation byte, overlong lead or beyond U+10FFFF */
   }
   if (left < n)
      return 0;
   for (size_t i = 1; i < n; i++) {
      if ((s[i] & 0xc0) != 0x80)
         return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
   }
   bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
   bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
   bool c1 = cp >= 0x80 && cp <= 0x9f;
   /* LINE/PARAGRAPH SEPARATOR, bidi embeddings/overrides and isolates. */
   bool reorders = cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
   if (overlong || surrogate || cp > 0x10ffff || c1 || reorders)
      return 0;
   return n;
}

/* Calls emit for each output piece; the one walk behind every variant. */
typedef void (*Emit)(void* ctx, const char* piece, size_t len);

static void walk(const char* in, size_t len, bool keepLines, Emit emit, void* ctx) {
   const unsigned char* s = (const unsigned char*)in;
   size_t i = 0;
   while (i < len) {
      size_t n = safeSequence(s + i, len - i, keepLines);
      if (n > 0) {
         emit(ctx, in + i, n);
         i += n;
         continue;
      }
      char esc[5];
      static const char hex[] = "0123456789abcdef";
      esc[0] = '\\';
      esc[1] = 'x';
      esc[2] = hex[s[i] >> 4];
      esc[3] = hex[s[i] & 15];
      esc[4] = '\0';
      emit(ctx, esc, 4);
      i++;
   }
}

typedef struct Fixed_ {
   char* out;
   size_t size, used;
   bool full;
} Fixed;

static void emitFixed(void* ctx, const char* piece, size_t len) {
   Fixed* f = ctx;
   if (f->full || f->used + len + 1 > f->size) {
      f->full = true; /* never half a sequence or half an escape */
      return;
   }
   memcpy(f->out + f->used, piece, len);
   f->used += len;
}

char* Printable_copy(char* out, size_t size, const char* in) {
   if (size == 0)
      return out;
   Fixed f = { .out = out, .size = size };
   if (in)
      walk(in, strlen(in), false, emitFixed, &f);
   out[f.used] = '\0';
   return out;
}

typedef struct Grown_ {
   char* data;
   size_t len, cap;
} Grown;

static void emitGrown(void* ctx, const char* piece, size_t len) {
   Grown* g = ctx;
   Util_growArray((void**)&g->data, &g->cap, g->len + len + 1, 1);
   memcpy(g->data + g->len, piece, len);
   g->len += len;
}

char* Printable_text(const char* in, size_t len, bool keepLines, size_t* outLen) {
   Grown g = { 0 };
   Util_growArray((void**)&g.data, &g.cap, len + 1, 1);
   if (in)
      walk(in, len, keepLines, emitGrown, &g);
   g.data[g.len] = '\0';
   if (outLen)
      *outLen = g.len;
   return g.data;
}

char* Printable_dup(const char* in) {
   return Printable_text(in, in ? strlen(in) : 0, false, NULL);
}

bool Printable_is(const char* s) {
   size_t len = strlen(s);
   const unsigned char* u = (const unsigned char*)s;
   for (size_t i = 0; i < len;) {
      size_t n = safeSequence(u + i, len - i, false);
      if (n == 0)
         return false;
      i += n;
   }
   return true;
}

static void emitFile(void* ctx, const char* piece, size_t len) {
   fwrite(piece, 1, len, (FILE*)ctx);
}

void Printable_write(const char* in, FILE* out) {
   if (in)
      walk(in, strlen(in), false, emitFile, out);
}

void Printable_inPlace(char* s, size_t size) {
   if (size == 0 || Printable_is(s))
      return;
   char* copy = Util_xstrdup(s);
   Printable_copy(s, size, copy);
   free(copy);
}
