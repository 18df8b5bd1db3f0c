#ifndef STACKTOP_TABWRITER_H
#define STACKTOP_TABWRITER_H
/* Go's text/tabwriter as runtime/pprof configures it for the goroutine
 * profile (minwidth 1, tabwidth 8, padding 1, padchar '\t', no flags), so
 * our text is byte-identical to Go's: cells are tab-terminated (the text
 * after a line's last tab is not a cell), a column's width is the widest
 * cell of its block of consecutive lines plus one, rounded up to a tab stop,
 * and is filled with tabs; a line without tabs flushes (ends every block).
 * Widths count UTF-8 code points, as Go does. */
#include <stddef.h>
#include <stdio.h>

/* Formats the NUL-free text of `len` bytes (lines end in '\n') to out. */
void Tabwriter_write(const char* text, size_t len, FILE* out);

#endif
