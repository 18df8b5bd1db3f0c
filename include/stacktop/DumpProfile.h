#ifndef STACKTOP_DUMPPROFILE_H
#define STACKTOP_DUMPPROFILE_H
/* A dump's stacks in the formats other tools read: a pprof profile
 * (PprofWriter: `go tool pprof`, speedscope, Pyroscope) and a flame graph
 * SVG (FlameSvg: any browser). Both show one part of the dump: the threads
 * (sample type threads/count, one sample per DumpGroup) or the goroutines of
 * a Go program (goroutines/count, one sample per group of Go's own profile,
 * with the frames its debug=1 output shows). DUMP_PARTS_ALL means the
 * goroutines of a Go program whose goroutines could be read, else the
 * threads. Used by Dump_writeWith. */
#include <stdbool.h>
#include <stdio.h>

#include "stacktop/Dump.h"

/* True when the formats below show r's goroutines for these parts. */
bool DumpProfile_showsGoroutines(const DumpResult* r, DumpParts parts);
/* Writes the gzip-compressed profile.proto; 0, or -1 with errno set. */
int DumpProfile_pprof(const DumpResult* r, const DumpWriteOptions* o, FILE* out);
/* Writes the flame graph; 0, or -1 with errno set (the caller also checks out). */
int DumpProfile_svg(const DumpResult* r, const DumpWriteOptions* o, FILE* out);

#endif
