#ifndef STACKTOP_FLAMESVG_H
#define STACKTOP_FLAMESVG_H
/* A flame graph as one self-contained SVG file (no script, no external
 * resource): stacks merged from the root like flamegraph.pl, one box per
 * function per merged prefix, its width the share of the total count, a
 * <title> per box (function, count, share, its file:line call sites) that
 * a browser shows on hover. Children are ordered by name and colours come
 * from a hash of the name, so the same stacks give the same bytes. Names and
 * paths come from the target: they are neutralised (Printable.h), made valid
 * UTF-8 and escaped for XML. The graph copies what it is given. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct FlameFrame_ {
   const char* name;   /* must not be NULL */
   const char* file;   /* source file, or NULL */
   int line;           /* with file */
   const char* module; /* where the code is when there is no file, or NULL */
} FlameFrame;

typedef struct FlameSvg_ FlameSvg;

/* root: the bottom box's name (the process); unit: what is counted
 * ("threads", "goroutines"). */
FlameSvg* FlameSvg_new(const char* root, const char* unit);
void FlameSvg_free(FlameSvg* this);
/* Adds count stacks of these frames, outermost first. */
void FlameSvg_add(FlameSvg* this, const FlameFrame* frames, size_t n, uint64_t count);
/* Writes the SVG document: title and subtitle are lines above the graph
 * (subtitle may be NULL). Frames narrower than 0.1 pixel are left out, and
 * how many is said below the graph. */
void FlameSvg_write(const FlameSvg* this, const char* title, const char* subtitle, FILE* out);

#endif
