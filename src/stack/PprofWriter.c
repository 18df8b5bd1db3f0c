/* A pprof profile in memory and its gzip-compressed protocol buffer: see
 * PprofWriter.h. Field numbers are profile.proto's. */
#include "stacktop/PprofWriter.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stacktop/Printable.h"
#include "stacktop/Utf8.h"
#include "stacktop/Util.h"

enum {
   PROFILE_SAMPLE_TYPE = 1,
   PROFILE_SAMPLE = 2,
   PROFILE_MAPPING = 3,
   PROFILE_LOCATION = 4,
   PROFILE_FUNCTION = 5,
   PROFILE_STRING_TABLE = 6,
   PROFILE_TIME_NANOS = 9,
   PROFILE_PERIOD_TYPE = 11,
   PROFILE_PERIOD = 12,
   PROFILE_COMMENT = 13,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2 };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum { LABEL_KEY = 1, LABEL_STR = 2 };
enum {
   MAPPING_ID = 1,
   MAPPING_MEMORY_START = 2,
   MAPPING_MEMORY_LIMIT = 3,
   MAPPING_FILE_OFFSET = 4,
   MAPPING_FILENAME = 5,
   MAPPING_BUILD_ID = 6,
   MAPPING_HAS_FUNCTIONS = 7,
   MAPPING_HAS_FILENAMES = 8,
   MAPPING_HAS_LINE_NUMBERS = 9,
   MAPPING_HAS_INLINE_FRAMES = 10,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4 };
enum { LINE_FUNCTION_ID = 1, LINE_LINE = 2 };
enum { FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4 };

/* zlib's output chunk. */
#define GZIP_CHUNK 16384

/* ---- interning: byte-string keys to ids (open addressing, FNV-1a) ------------ */

typedef struct Slot_ {
   uint8_t* key; /* NULL: empty */
   size_t len;
   uint64_t value;
} Slot;

typedef struct Index_ {
   Slot* slots;
   size_t cap, count; /* cap is a power of two, at most half full */
} Index;

static uint64_t hashOf(const void* key, size_t len) {
   uint64_t h = 0xcbf29ce484222325ull;
   for (size_t i = 0; i < len; i++) {
      h ^= ((const uint8_t*)key)[i];
      h *= 0x100000001b3ull;
   }
   return h;
}

static Slot* slotFor(const Index* index, const void* key, size_t len) {
   size_t mask = index->cap - 1;
   for (size_t i = hashOf(key, len) & mask;; i = (i + 1) & mask) {
      Slot* s = &index->slots[i];
      if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0))
         return s;
   }
}

static void indexGrow(Index* index) {
   Index bigger = { .cap = index->cap ? index->cap * 2 : 64 };
   bigger.slots = Util_xcalloc(bigger.cap, sizeof(Slot));
   for (size_t i = 0; i < index->cap; i++) {
      if (index->slots[i].key)
         *slotFor(&bigger, index->slots[i].key, index->slots[i].len) = index->slots[i];
   }
   bigger.count = index->count;
   free(index->slots);
   *index = bigger;
}

/* The id stored under key; else stores `id` and returns it. */
static uint64_t indexIntern(Index* index, const void* key, size_t len, uint64_t id) {
   if (2 * (index->count + 1) > index->cap)
      indexGrow(index);
   Slot* s = slotFor(index, key, len);
   if (s->key)
      return s->value;
   s->key = Util_xmalloc(len ? len : 1);
   memcpy(s->key, key, len);
   s->len = len;
   s->value = id;
   index->count++;
   return id;
}

static void indexFree(Index* index) {
   for (size_t i = 0; i < index->cap; i++)
      free(index->slots[i].key);
   free(index->slots);
}

/* ---- the model ------------------------------------------------------------ */

typedef struct Function_ {
   int64_t name, file; /* string indices */
} Function;

typedef struct LineRef_ {
   uint64_t function; /* id */
   int64_t line;
} LineRef;

typedef struct Location_ {
   uint64_t mapping, address;
   LineRef* lines;
   size_t lineCount;
} Location;

typedef struct LabelRef_ {
   int64_t key, value;
} LabelRef;

typedef struct Sample_ {
   uint64_t* locations;
   size_t locationCount;
   int64_t value;
   LabelRef* labels;
   size_t labelCount;
} Sample;

typedef struct Mapping_ {
   uint64_t start, limit, offset;
   int64_t file, buildId;
} Mapping;

struct PprofWriter_ {
   int64_t sampleType, unit, timeNanos;
   char** strings;
   size_t stringCount, stringCap;
   Index stringIndex;
   Function* functions;
   size_t functionCount, functionCap;
   Index functionIndex;
   Location* locations;
   size_t locationCount, locationCap;
   Index locationIndex;
   Sample* samples;
   size_t sampleCount, sampleCap;
   Mapping* mappings;
   size_t mappingCount, mappingCap;
   uint64_t* comments; /* string indices */
   size_t commentCount, commentCap;
};

/* The string table index of s, neutralised and made valid UTF-8 (proto
 * `string` fields must be); NULL is "". */
static int64_t intern(PprofWriter* this, const char* s) {
   char* copy = Printable_dup(s);
   Utf8_sanitize(copy);
   size_t len = strlen(copy);
   uint64_t id = indexIntern(&this->stringIndex, copy, len, this->stringCount);
   if (id != this->stringCount) {
      free(copy);
      return (int64_t)id;
   }
   Util_growArray((void**)&this->strings, &this->stringCap, this->stringCount, sizeof(char*));
   this->strings[this->stringCount++] = copy;
   return (int64_t)id;
}

PprofWriter* PprofWriter_new(const char* sampleType, const char* unit) {
   PprofWriter* this = Util_xcalloc(1, sizeof(PprofWriter));
   intern(this, ""); /* string_table[0] must be "" */
   this->sampleType = intern(this, sampleType);
   this->unit = intern(this, unit);
   return this;
}

void PprofWriter_free(PprofWriter* this) {
   if (!this)
      return;
   for (size_t i = 0; i < this->stringCount; i++)
      free(this->strings[i]);
   free(this->strings);
   indexFree(&this->stringIndex);
   free(this->functions);
   indexFree(&this->functionIndex);
   for (size_t i = 0; i < this->locationCount; i++)
      free(this->locations[i].lines);
   free(this->locations);
   indexFree(&this->locationIndex);
   for (size_t i = 0; i < this->sampleCount; i++) {
      free(this->samples[i].locations);
      free(this->samples[i].labels);
   }
   free(this->samples);
   free(this->mappings);
   free(this->comments);
   free(this);
}

uint64_t PprofWriter_mapping(PprofWriter* this, const PprofMapping* m) {
   Util_growArray((void**)&this->mappings, &this->mappingCap, this->mappingCount, sizeof(Mapping));
   this->mappings[this->mappingCount++] = (Mapping){
      .start = m->start,
      .limit = m->limit,
      .offset = m->offset,
      .file = intern(this, m->file),
      .buildId = intern(this, m->buildId),
   };
   return this->mappingCount;
}

static uint64_t function(PprofWriter* this, const PprofLine* line) {
   Function f = { .name = intern(this, line->function), .file = intern(this, line->file) };
   uint64_t id = indexIntern(&this->functionIndex, &f, sizeof(f), this->functionCount + 1);
   if (id == this->functionCount + 1) {
      Util_growArray((void**)&this->functions, &this->functionCap, this->functionCount, sizeof(Function));
      this->functions[this->functionCount++] = f;
   }
   return id;
}

uint64_t PprofWriter_location(PprofWriter* this, uint64_t mappingId, uint64_t address, const PprofLine* lines,
                              size_t n) {
   /* The key: mapping, address, then (function id, line) per line. */
   size_t keyLen = (2 + 2 * n) * sizeof(uint64_t);
   uint64_t* key = Util_xcalloc(2 + 2 * n, sizeof(uint64_t));
   LineRef* refs = Util_xcalloc(n ? n : 1, sizeof(LineRef));
   key[0] = mappingId;
   key[1] = address;
   for (size_t i = 0; i < n; i++) {
      refs[i] = (LineRef){ .function = function(this, &lines[i]), .line = lines[i].line };
      key[2 + 2 * i] = refs[i].function;
      key[3 + 2 * i] = (uint64_t)refs[i].line;
   }
   uint64_t id = indexIntern(&this->locationIndex, key, keyLen, this->locationCount + 1);
   free(key);
   if (id != this->locationCount + 1) {
      free(refs);
      return id;
   }
   Util_growArray((void**)&this->locations, &this->locationCap, this->locationCount, sizeof(Location));
   this->locations[this->locationCount++] =
       (Location){ .mapping = mappingId, .address = address, .lines = refs, .lineCount = n };
   return id;
}

void PprofWriter_sample(PprofWriter* this, const uint64_t* locations, size_t n, int64_t value, const PprofLabel* labels,
                        size_t labelCount) {
   Sample s = { .locations = Util_xcalloc(n ? n : 1, sizeof(uint64_t)),
                .locationCount = n,
                .value = value,
                .labels = Util_xcalloc(labelCount ? labelCount : 1, sizeof(LabelRef)),
                .labelCount = labelCount };
   if (n)
      memcpy(s.locations, locations, n * sizeof(uint64_t));
   for (size_t i = 0; i < labelCount; i++)
      s.labels[i] = (LabelRef){ .key = intern(this, labels[i].key), .value = intern(this, labels[i].value) };
   Util_growArray((void**)&this->samples, &this->sampleCap, this->sampleCount, sizeof(Sample));
   this->samples[this->sampleCount++] = s;
}

void PprofWriter_comment(PprofWriter* this, const char* text) {
   Util_growArray((void**)&this->comments, &this->commentCap, this->commentCount, sizeof(uint64_t));
   this->comments[this->commentCount++] = (uint64_t)intern(this, text);
}

void PprofWriter_setTime(PprofWriter* this, int64_t nanos) {
   this->timeNanos = nanos;
}

/* ---- encoding -------------------------------------------------------------- */

static void valueType(Protobuf* out, uint32_t field, int64_t type, int64_t unit, Protobuf* scratch) {
   Protobuf_reset(scratch);
   Protobuf_int64(scratch, VALUE_TYPE_TYPE, type);
   Protobuf_int64(scratch, VALUE_TYPE_UNIT, unit);
   Protobuf_message(out, field, scratch);
}

static void encodeSample(const Sample* s, Protobuf* out, Protobuf* scratch, Protobuf* label) {
   uint64_t value = (uint64_t)s->value;
   Protobuf_reset(scratch);
   Protobuf_packed(scratch, SAMPLE_LOCATION_ID, s->locations, s->locationCount);
   Protobuf_packed(scratch, SAMPLE_VALUE, &value, 1);
   for (size_t i = 0; i < s->labelCount; i++) {
      Protobuf_reset(label);
      Protobuf_int64(label, LABEL_KEY, s->labels[i].key);
      Protobuf_int64(label, LABEL_STR, s->labels[i].value);
      Protobuf_message(scratch, SAMPLE_LABEL, label);
   }
   Protobuf_message(out, PROFILE_SAMPLE, scratch);
}

/* What every location of mapping id has: functions, file names, lines. */
typedef struct MappingFacts_ {
   bool functions, filenames, lineNumbers;
} MappingFacts;

static MappingFacts factsOf(const PprofWriter* this, uint64_t id) {
   MappingFacts f = { true, true, true };
   bool any = false;
   for (size_t i = 0; i < this->locationCount; i++) {
      const Location* l = &this->locations[i];
      if (l->mapping != id)
         continue;
      any = true;
      f.functions &= l->lineCount > 0;
      for (size_t k = 0; k < l->lineCount; k++) {
         f.filenames &= this->functions[l->lines[k].function - 1].file != 0;
         f.lineNumbers &= l->lines[k].line > 0;
      }
   }
   if (!any || !f.functions)
      f = (MappingFacts){ 0 };
   return f;
}

static void encodeMapping(const PprofWriter* this, size_t i, Protobuf* out, Protobuf* scratch) {
   const Mapping* m = &this->mappings[i];
   MappingFacts f = factsOf(this, i + 1);
   Protobuf_reset(scratch);
   Protobuf_uint64(scratch, MAPPING_ID, i + 1);
   Protobuf_uint64(scratch, MAPPING_MEMORY_START, m->start);
   Protobuf_uint64(scratch, MAPPING_MEMORY_LIMIT, m->limit);
   Protobuf_uint64(scratch, MAPPING_FILE_OFFSET, m->offset);
   Protobuf_int64(scratch, MAPPING_FILENAME, m->file);
   Protobuf_int64(scratch, MAPPING_BUILD_ID, m->buildId);
   Protobuf_bool(scratch, MAPPING_HAS_FUNCTIONS, f.functions);
   Protobuf_bool(scratch, MAPPING_HAS_FILENAMES, f.filenames);
   Protobuf_bool(scratch, MAPPING_HAS_LINE_NUMBERS, f.lineNumbers);
   /* Inlined frames come with the line tables (DWARF, Go's pclntab). */
   Protobuf_bool(scratch, MAPPING_HAS_INLINE_FRAMES, f.filenames && f.lineNumbers);
   Protobuf_message(out, PROFILE_MAPPING, scratch);
}

static void encodeLocation(const Location* l, uint64_t id, Protobuf* out, Protobuf* scratch, Protobuf* line) {
   Protobuf_reset(scratch);
   Protobuf_uint64(scratch, LOCATION_ID, id);
   if (l->mapping)
      Protobuf_uint64(scratch, LOCATION_MAPPING_ID, l->mapping);
   Protobuf_uint64(scratch, LOCATION_ADDRESS, l->address);
   for (size_t k = 0; k < l->lineCount; k++) {
      Protobuf_reset(line);
      Protobuf_uint64(line, LINE_FUNCTION_ID, l->lines[k].function);
      Protobuf_int64(line, LINE_LINE, l->lines[k].line);
      Protobuf_message(scratch, LOCATION_LINE, line);
   }
   Protobuf_message(out, PROFILE_LOCATION, scratch);
}

static void encodeFunction(const Function* f, uint64_t id, Protobuf* out, Protobuf* scratch) {
   Protobuf_reset(scratch);
   Protobuf_uint64(scratch, FUNCTION_ID, id);
   Protobuf_int64(scratch, FUNCTION_NAME, f->name);
   /* The same: pprof demangles a system name equal to the name. */
   Protobuf_int64(scratch, FUNCTION_SYSTEM_NAME, f->name);
   Protobuf_int64(scratch, FUNCTION_FILENAME, f->file);
   Protobuf_message(out, PROFILE_FUNCTION, scratch);
}

void PprofWriter_encode(const PprofWriter* this, Protobuf* out) {
   Protobuf scratch, inner;
   Protobuf_init(&scratch);
   Protobuf_init(&inner);
   valueType(out, PROFILE_SAMPLE_TYPE, this->sampleType, this->unit, &scratch);
   for (size_t i = 0; i < this->sampleCount; i++)
      encodeSample(&this->samples[i], out, &scratch, &inner);
   for (size_t i = 0; i < this->mappingCount; i++)
      encodeMapping(this, i, out, &scratch);
   for (size_t i = 0; i < this->locationCount; i++)
      encodeLocation(&this->locations[i], i + 1, out, &scratch, &inner);
   for (size_t i = 0; i < this->functionCount; i++)
      encodeFunction(&this->functions[i], i + 1, out, &scratch);
   for (size_t i = 0; i < this->stringCount; i++)
      Protobuf_string(out, PROFILE_STRING_TABLE, this->strings[i]);
   if (this->timeNanos)
      Protobuf_int64(out, PROFILE_TIME_NANOS, this->timeNanos);
   valueType(out, PROFILE_PERIOD_TYPE, this->sampleType, this->unit, &scratch);
   Protobuf_int64(out, PROFILE_PERIOD, 1);
   Protobuf_packed(out, PROFILE_COMMENT, this->comments, this->commentCount);
   Protobuf_free(&scratch);
   Protobuf_free(&inner);
}

/* ---- gzip ------------------------------------------------------------------ */

static int deflateTo(z_stream* z, FILE* out) {
   uint8_t chunk[GZIP_CHUNK];
   int rc;
   do {
      z->next_out = chunk;
      z->avail_out = sizeof(chunk);
      rc = deflate(z, Z_FINISH);
      if (rc == Z_STREAM_ERROR) {
         errno = EINVAL;
         return -1;
      }
      size_t have = sizeof(chunk) - z->avail_out;
      if (have && fwrite(chunk, 1, have, out) != have)
         return -1;
   } while (rc != Z_STREAM_END);
   return 0;
}

int PprofWriter_writeGzip(const PprofWriter* this, FILE* out) {
   Protobuf raw;
   Protobuf_init(&raw);
   PprofWriter_encode(this, &raw);
   z_stream z = { 0 };
   /* windowBits 15 + 16: a gzip header and trailer, as pprof expects. */
   if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      Protobuf_free(&raw);
      errno = ENOMEM;
      return -1;
   }
   z.next_in = raw.data;
   z.avail_in = (uInt)raw.len;
   int rc = raw.len > UINT32_MAX ? (errno = EFBIG, -1) : deflateTo(&z, out);
   deflateEnd(&z);
   Protobuf_free(&raw);
   return rc;
}
