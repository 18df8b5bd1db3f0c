#ifndef STACKTOP_TEXT_H
#define STACKTOP_TEXT_H
/* Neutralising text that a target chose (names, paths, symbols, command
 * lines) before it reaches a terminal or a line-oriented file: C0 controls
 * (newline, tab, escape...), DEL and UTF-8 encoded C1 controls (U+0080 to
 * U+009F, which some terminals obey as escapes) become '?', so such text
 * can neither forge a line nor move the cursor. Other bytes pass unchanged. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when s has none of those bytes. */
bool Text_isSafe(const char* s);
/* In place; never lengthens s. */
void Text_neutralise(char* s);
/* Writes s neutralised. */
void Text_put(const char* s, FILE* out);

#endif
