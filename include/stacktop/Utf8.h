#ifndef STACKTOP_UTF8_H
#define STACKTOP_UTF8_H
/* Strict UTF-8 for text from a target that goes into formats whose readers
 * reject invalid UTF-8 (protobuf `string` fields, XML): overlong forms,
 * surrogates (U+D800-U+DFFF), code points past U+10FFFF and truncated
 * sequences are invalid. Pair with Printable, which escapes controls. */
#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the valid sequence at p, its code point in *cp; 0 when
 * p does not start one (including at the terminating NUL). */
size_t Utf8_charAt(const char* p, uint32_t* cp);
/* In place: each byte that does not start a valid sequence becomes '?'. */
void Utf8_sanitize(char* s);

#endif
