/* Strict UTF-8 decoding: see Utf8.h. */
#include "stacktop/Utf8.h"

size_t Utf8_charAt(const char* s, uint32_t* cp) {
   const unsigned char* p = (const unsigned char*)s;
   if (p[0] == 0)
      return 0;
   if (p[0] < 0x80) {
      *cp = p[0];
      return 1;
   }
   /* 0xc0/0xc1 could only start overlong forms, 0xf5+ code points past U+10FFFF. */
   size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
   if (len == 0 || p[0] > 0xf4)
      return 0;
   uint32_t v = p[0] & (0x7fu >> len);
   for (size_t i = 1; i < len; i++) {
      if ((p[i] & 0xc0) != 0x80)
         return 0; /* also stops at the NUL of a truncated sequence */
      v = v << 6 | (p[i] & 0x3f);
   }
   static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
   if (v < least[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
      return 0;
   *cp = v;
   return len;
}

void Utf8_sanitize(char* s) {
   for (char* p = s; *p;) {
      uint32_t cp;
      size_t n = Utf8_charAt(p, &cp);
      if (n == 0)
         *p++ = '?';
      else
         p += n;
   }
}
