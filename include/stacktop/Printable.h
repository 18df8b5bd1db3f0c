#ifndef STACKTOP_PRINTABLE_H
#define STACKTOP_PRINTABLE_H
/* Neutralising strings a process, /proc or a user controls before they reach
 * a terminal, a mail or a line-oriented file: every byte that could steer a
 * terminal or break a line becomes a visible \xHH escape. That covers C0
 * controls (newline and tab included, unless a whole text is kept as lines),
 * DEL, C1 controls (raw, or encoded in UTF-8), bytes that are not valid UTF-8,
 * and the Unicode line separators and bidirectional overrides that reorder
 * what a reader sees. Valid UTF-8 text otherwise passes unchanged. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Copies in into out (size bytes, always terminated, an escape never cut in
 * half). Returns out. NULL in gives "". */
char* Printable_copy(char* out, size_t size, const char* in);
/* The same into a fresh string (caller frees). */
char* Printable_dup(const char* in);
/* A whole text of len bytes (NULs included, escaped): with keepLines, '\n'
 * and '\t' stay as they are, so a text file keeps its lines. Returns a fresh
 * NUL-terminated string (caller frees), its length in *outLen when non-NULL. */
char* Printable_text(const char* in, size_t len, bool keepLines, size_t* outLen);
/* Writes in, escaped, to out (a line-oriented file or a terminal). */
void Printable_write(const char* in, FILE* out);
/* Escapes s in place within its buffer of size bytes (cut at a whole
 * escape when it no longer fits). */
void Printable_inPlace(char* s, size_t size);
/* Whether s (NUL-terminated) would come out of Printable_copy unchanged. */
bool Printable_is(const char* s);

#endif
