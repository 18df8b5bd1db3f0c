/* Streaming JSON writer: escaping and comma placement, nothing more. */
#include "stacktop/Json.h"

#include <math.h>

void Json_init(Json* this, FILE* out) {
   this->out = out;
   this->depth = 0;
   this->needComma[0] = false;
   this->afterKey = false;
}

/* Every value and key calls this first: a comma between siblings, none after a key. */
static void beforeValue(Json* this) {
   if (this->afterKey) {
      this->afterKey = false;
      return;
   }
   if (this->needComma[this->depth])
      fputc(',', this->out);
   this->needComma[this->depth] = true;
}

static void openContainer(Json* this, char c) {
   beforeValue(this);
   fputc(c, this->out);
   if (this->depth < JSON_MAX_DEPTH - 1)
      this->depth++;
   this->needComma[this->depth] = false;
}

static void closeContainer(Json* this, char c) {
   fputc(c, this->out);
   if (this->depth > 0)
      this->depth--;
}

void Json_beginObject(Json* this) {
   openContainer(this, '{');
}
void Json_endObject(Json* this) {
   closeContainer(this, '}');
}
void Json_beginArray(Json* this) {
   openContainer(this, '[');
}
void Json_endArray(Json* this) {
   closeContainer(this, ']');
}

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 when it is not
 * one: a stray continuation byte, a truncated sequence, an overlong form, a
 * UTF-16 surrogate or a code point past U+10FFFF. */
static int utf8Length(const unsigned char* p) {
   unsigned char c = p[0];
   int len;
   unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
   if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
   } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0)
         lo = 0xa0; /* overlong */
      else if (c == 0xed)
         hi = 0x9f; /* surrogates */
   } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0)
         lo = 0x90; /* overlong */
      else if (c == 0xf4)
         hi = 0x8f; /* past U+10FFFF */
   } else {
      return 0;
   }
   if (p[1] < lo || p[1] > hi)
      return 0;
   for (int i = 2; i < len; i++) {
      if (p[i] < 0x80 || p[i] > 0xbf)
         return 0; /* also stops at the terminating NUL */
   }
   return len;
}

/* Writes s as a JSON string. Process names and command lines are arbitrary
 * bytes; bytes that are not valid UTF-8 become U+FFFD so the output stays
 * valid JSON. */
static void writeEscaped(FILE* out, const char* s) {
   fputc('"', out);
   for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
      switch (*p) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      default:
         if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p);
         } else if (*p < 0x80) {
            fputc(*p, out);
         } else {
            int len = utf8Length(p);
            if (len == 0) {
               fputs("\\ufffd", out);
               continue;
            }
            fwrite(p, 1, (size_t)len, out);
            p += len - 1;
         }
      }
   }
   fputc('"', out);
}

void Json_key(Json* this, const char* key) {
   beforeValue(this);
   writeEscaped(this->out, key);
   fputc(':', this->out);
   this->afterKey = true;
}

void Json_string(Json* this, const char* s) {
   if (!s) {
      Json_null(this);
      return;
   }
   beforeValue(this);
   writeEscaped(this->out, s);
}

void Json_int(Json* this, long long v) {
   beforeValue(this);
   fprintf(this->out, "%lld", v);
}

void Json_uint(Json* this, unsigned long long v) {
   beforeValue(this);
   fprintf(this->out, "%llu", v);
}

void Json_double(Json* this, double v, int decimals) {
   if (!isfinite(v)) {
      Json_null(this);
      return;
   }
   beforeValue(this);
   fprintf(this->out, "%.*f", decimals, v);
}

void Json_bool(Json* this, bool v) {
   beforeValue(this);
   fputs(v ? "true" : "false", this->out);
}

void Json_null(Json* this) {
   beforeValue(this);
   fputs("null", this->out);
}
