#ifndef STACKTOP_PPROFWRITER_H
#define STACKTOP_PPROFWRITER_H
/* A pprof profile (google/pprof proto/profile.proto, package
 * perftools.profiles) built in memory and written as the gzip-compressed
 * protocol buffer `go tool pprof` reads. One sample type; strings, functions
 * and locations are interned (each distinct one written once). Every string
 * is neutralised (Printable.h) when it is added, since `go tool pprof -top/-traces`
 * prints them to a terminal, and made valid UTF-8 (Utf8.h), since protobuf
 * readers that check `string` fields reject a profile with one bad byte. The mapping flags (has_functions, ...) are
 * computed from the locations, so a reader symbolizes only mappings we could
 * not (pprof re-symbolizes a mapping whose has_functions is false). The
 * writer copies everything it is given; the caller keeps its own strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stacktop/Protobuf.h"

/* One frame of a location: several lines are inlined frames, callee first. */
typedef struct PprofLine_ {
   const char* function; /* must not be NULL */
   const char* file;     /* NULL: unknown */
   int64_t line;         /* 0: unknown */
} PprofLine;

typedef struct PprofLabel_ {
   const char* key;
   const char* value;
} PprofLabel;

/* An executable mapping of the target: [start, limit) from file offset `offset`. */
typedef struct PprofMapping_ {
   uint64_t start, limit, offset;
   const char* file;    /* as the target mapped it */
   const char* buildId; /* hexadecimal GNU build-id; NULL or "" when none */
} PprofMapping;

typedef struct PprofWriter_ PprofWriter;

/* sampleType/unit: e.g. "threads"/"count". Also the period type, period 1. */
PprofWriter* PprofWriter_new(const char* sampleType, const char* unit);
void PprofWriter_free(PprofWriter* this);

/* Adds a mapping; returns its id (1, 2, ...). The first is shown by pprof as
 * the main binary. */
uint64_t PprofWriter_mapping(PprofWriter* this, const PprofMapping* mapping);
/* The id of the location (mappingId 0: none) at address with these lines,
 * added when new. n may be 0: an address pprof cannot name. */
uint64_t PprofWriter_location(PprofWriter* this, uint64_t mappingId, uint64_t address, const PprofLine* lines,
                              size_t n);
/* A sample: location ids innermost first, its value, and string labels (a
 * key given several times has several values). */
void PprofWriter_sample(PprofWriter* this, const uint64_t* locations, size_t n, int64_t value, const PprofLabel* labels,
                        size_t labelCount);
/* A free-text comment (`go tool pprof -comments`). */
void PprofWriter_comment(PprofWriter* this, const char* text);
/* When the profile was taken, in nanoseconds since the epoch. */
void PprofWriter_setTime(PprofWriter* this, int64_t nanos);

/* The serialized profile, uncompressed, appended to out. */
void PprofWriter_encode(const PprofWriter* this, Protobuf* out);
/* The profile as pprof stores it on disk: gzip-compressed. Returns 0, or -1
 * with errno set (a write error, or zlib out of memory: ENOMEM). */
int PprofWriter_writeGzip(const PprofWriter* this, FILE* out);

#endif
