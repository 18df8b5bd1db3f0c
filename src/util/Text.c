/* Neutralising target-chosen text: see Text.h. */
#include "stacktop/Text.h"

/* Bytes of a control at p: 1 for C0 and DEL, 2 for a UTF-8 C1, else 0. */
static size_t controlAt(const unsigned char* p) {
   if (*p < 0x20 || *p == 0x7f)
      return 1;
   if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
      return 2;
   return 0;
}

bool Text_isSafe(const char* s) {
   for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
      if (controlAt(p))
         return false;
   }
   return true;
}

void Text_neutralise(char* s) {
   char* o = s;
   for (const unsigned char* p = (const unsigned char*)s; *p;) {
      size_t n = controlAt(p);
      *o++ = n ? '?' : (char)*p;
      p += n ? n : 1;
   }
   *o = '\0';
}

void Text_put(const char* s, FILE* out) {
   for (const unsigned char* p = (const unsigned char*)s; *p;) {
      size_t n = controlAt(p);
      fputc(n ? '?' : *p, out);
      p += n ? n : 1;
   }
}
