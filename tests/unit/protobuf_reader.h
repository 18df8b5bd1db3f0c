/* A minimal protocol buffers reader for the unit tests of what stacktop
 * encodes (Protobuf, PprofWriter, DumpProfile): written independently of
 * the encoder, from the wire format's definition, so a test decodes bytes
 * rather than trusting the code that wrote them; and a decoder of pprof's
 * profile.proto (field numbers from google/pprof proto/profile.proto) into
 * fixed-size tables. Malformed input fails the test. Include after cmocka.h. */
#ifndef STACKTOP_TESTS_PROTOBUF_READER_H
#define STACKTOP_TESTS_PROTOBUF_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct PbField {
   uint32_t field;
   unsigned wire;       /* 0 varint, 2 length-delimited (nothing else is expected) */
   uint64_t value;      /* wire 0 */
   const uint8_t* data; /* wire 2 */
   size_t len;
} PbField;

static inline uint64_t pb_varint(const uint8_t* buf, size_t len, size_t* pos) {
   uint64_t v = 0;
   for (unsigned shift = 0;; shift += 7) {
      assert_true(*pos < len); /* the varint runs past the end */
      assert_true(shift < 64); /* more than ten bytes */
      uint8_t b = buf[(*pos)++];
      v |= (uint64_t)(b & 0x7f) << shift;
      if (b < 0x80)
         return v;
   }
}

/* The next field of the message buf[0..len) from *pos; false at its end. */
static inline bool pb_next(const uint8_t* buf, size_t len, size_t* pos, PbField* f) {
   if (*pos == len)
      return false;
   uint64_t key = pb_varint(buf, len, pos);
   *f = (PbField){ .field = (uint32_t)(key >> 3), .wire = (unsigned)(key & 7) };
   assert_true(f->field != 0);
   if (f->wire == 0) {
      f->value = pb_varint(buf, len, pos);
   } else {
      assert_int_equal(f->wire, 2);
      f->len = (size_t)pb_varint(buf, len, pos);
      assert_true(f->len <= len - *pos);
      f->data = buf + *pos;
      *pos += f->len;
   }
   return true;
}

/* A repeated varint field, packed (wire 2) or one value (wire 0): appends to out. */
static inline size_t pb_repeated(const PbField* f, uint64_t* out, size_t n, size_t max) {
   if (f->wire == 0) {
      assert_true(n < max);
      out[n++] = f->value;
      return n;
   }
   for (size_t pos = 0; pos < f->len;) {
      assert_true(n < max);
      out[n++] = pb_varint(f->data, f->len, &pos);
   }
   return n;
}

/* ---- pprof's profile.proto ------------------------------------------------------ */

#define T_MAX 64

typedef struct TSample {
   uint64_t locations[T_MAX];
   size_t locationCount;
   uint64_t values[4];
   size_t valueCount;
   int64_t labelKey[T_MAX], labelStr[T_MAX];
   size_t labelCount;
} TSample;

typedef struct TLocation {
   uint64_t id, mapping, address;
   uint64_t function[16];
   int64_t line[16];
   size_t lineCount;
} TLocation;

typedef struct TFunction {
   uint64_t id;
   int64_t name, systemName, file;
} TFunction;

typedef struct TMapping {
   uint64_t id, start, limit, offset;
   int64_t file, buildId;
   bool hasFunctions, hasFilenames, hasLineNumbers, hasInlineFrames;
} TMapping;

typedef struct TProfile {
   int64_t sampleType[2], periodType[2], period, timeNanos;
   size_t sampleTypeCount;
   TSample samples[T_MAX];
   size_t sampleCount;
   TLocation locations[T_MAX];
   size_t locationCount;
   TFunction functions[T_MAX];
   size_t functionCount;
   TMapping mappings[T_MAX];
   size_t mappingCount;
   char* strings[4 * T_MAX];
   size_t stringCount;
   uint64_t comments[16];
   size_t commentCount;
} TProfile;

static inline void t_valueType(const PbField* f, int64_t* out) {
   size_t pos = 0;
   PbField g;
   while (pb_next(f->data, f->len, &pos, &g))
      out[g.field == 1 ? 0 : 1] = (int64_t)g.value;
}

static inline void t_sample(const PbField* f, TSample* s) {
   size_t pos = 0;
   PbField g;
   while (pb_next(f->data, f->len, &pos, &g)) {
      if (g.field == 1)
         s->locationCount = pb_repeated(&g, s->locations, s->locationCount, T_MAX);
      else if (g.field == 2)
         s->valueCount = pb_repeated(&g, s->values, s->valueCount, 4);
      else if (g.field == 3) {
         assert_true(s->labelCount < T_MAX);
         size_t lp = 0;
         PbField h;
         while (pb_next(g.data, g.len, &lp, &h)) {
            if (h.field == 1)
               s->labelKey[s->labelCount] = (int64_t)h.value;
            else if (h.field == 2)
               s->labelStr[s->labelCount] = (int64_t)h.value;
         }
         s->labelCount++;
      }
   }
}

static inline void t_location(const PbField* f, TLocation* l) {
   size_t pos = 0;
   PbField g;
   while (pb_next(f->data, f->len, &pos, &g)) {
      if (g.field == 1)
         l->id = g.value;
      else if (g.field == 2)
         l->mapping = g.value;
      else if (g.field == 3)
         l->address = g.value;
      else if (g.field == 4) {
         assert_true(l->lineCount < 16);
         size_t lp = 0;
         PbField h;
         while (pb_next(g.data, g.len, &lp, &h)) {
            if (h.field == 1)
               l->function[l->lineCount] = h.value;
            else if (h.field == 2)
               l->line[l->lineCount] = (int64_t)h.value;
         }
         l->lineCount++;
      }
   }
}

static inline void t_function(const PbField* f, TFunction* fn) {
   size_t pos = 0;
   PbField g;
   while (pb_next(f->data, f->len, &pos, &g)) {
      int64_t v = (int64_t)g.value;
      if (g.field == 1)
         fn->id = g.value;
      else if (g.field == 2)
         fn->name = v;
      else if (g.field == 3)
         fn->systemName = v;
      else if (g.field == 4)
         fn->file = v;
   }
}

static inline void t_mapping(const PbField* f, TMapping* m) {
   size_t pos = 0;
   PbField g;
   while (pb_next(f->data, f->len, &pos, &g)) {
      switch (g.field) {
      case 1: m->id = g.value; break;
      case 2: m->start = g.value; break;
      case 3: m->limit = g.value; break;
      case 4: m->offset = g.value; break;
      case 5: m->file = (int64_t)g.value; break;
      case 6: m->buildId = (int64_t)g.value; break;
      case 7: m->hasFunctions = g.value; break;
      case 8: m->hasFilenames = g.value; break;
      case 9: m->hasLineNumbers = g.value; break;
      case 10: m->hasInlineFrames = g.value; break;
      default: break;
      }
   }
}

/* Decodes a whole Profile message; the caller frees with t_free. */
static inline TProfile* t_decode(const uint8_t* buf, size_t len) {
   TProfile* p = calloc(1, sizeof(TProfile));
   assert_non_null(p);
   size_t pos = 0;
   PbField f;
   while (pb_next(buf, len, &pos, &f)) {
      switch (f.field) {
      case 1:
         assert_int_equal(f.wire, 2);
         p->sampleTypeCount++;
         t_valueType(&f, p->sampleType);
         break;
      case 2:
         assert_true(p->sampleCount < T_MAX);
         t_sample(&f, &p->samples[p->sampleCount++]);
         break;
      case 3:
         assert_true(p->mappingCount < T_MAX);
         t_mapping(&f, &p->mappings[p->mappingCount++]);
         break;
      case 4:
         assert_true(p->locationCount < T_MAX);
         t_location(&f, &p->locations[p->locationCount++]);
         break;
      case 5:
         assert_true(p->functionCount < T_MAX);
         t_function(&f, &p->functions[p->functionCount++]);
         break;
      case 6:
         assert_int_equal(f.wire, 2);
         assert_true(p->stringCount < 4 * T_MAX);
         p->strings[p->stringCount] = calloc(1, f.len + 1);
         memcpy(p->strings[p->stringCount++], f.data, f.len);
         break;
      case 9: p->timeNanos = (int64_t)f.value; break;
      case 11: t_valueType(&f, p->periodType); break;
      case 12: p->period = (int64_t)f.value; break;
      case 13: p->commentCount = pb_repeated(&f, p->comments, p->commentCount, 16); break;
      default: fail_msg("unexpected Profile field %u", f.field);
      }
   }
   return p;
}

static inline void t_free(TProfile* p) {
   for (size_t i = 0; i < p->stringCount; i++)
      free(p->strings[i]);
   free(p);
}

static inline const char* t_string(const TProfile* p, int64_t i) {
   assert_true(i >= 0 && (size_t)i < p->stringCount);
   return p->strings[i];
}

static inline const TLocation* t_location_by_id(const TProfile* p, uint64_t id) {
   for (size_t i = 0; i < p->locationCount; i++) {
      if (p->locations[i].id == id)
         return &p->locations[i];
   }
   fail_msg("no location %" PRIu64, id);
   return NULL;
}

static inline const TFunction* t_function_by_id(const TProfile* p, uint64_t id) {
   for (size_t i = 0; i < p->functionCount; i++) {
      if (p->functions[i].id == id)
         return &p->functions[i];
   }
   fail_msg("no function %" PRIu64, id);
   return NULL;
}

/* The function name of line k of location id. */
static inline const char* t_line_function(const TProfile* p, uint64_t location, size_t k) {
   const TLocation* l = t_location_by_id(p, location);
   assert_true(k < l->lineCount);
   return t_string(p, t_function_by_id(p, l->function[k])->name);
}

/* The values of label `key` of a sample, joined by '|' into buf. */
static inline const char* t_label(const TProfile* p, const TSample* s, const char* key, char* buf, size_t size) {
   buf[0] = '\0';
   for (size_t i = 0; i < s->labelCount; i++) {
      if (strcmp(t_string(p, s->labelKey[i]), key) != 0)
         continue;
      size_t len = strlen(buf);
      snprintf(buf + len, size - len, "%s%s", len ? "|" : "", t_string(p, s->labelStr[i]));
   }
   return buf;
}

/* gunzip: a gzip member (header and trailer checked by zlib). Caller frees. */
static inline uint8_t* t_gunzip(const uint8_t* in, size_t inLen, size_t* outLen) {
   assert_true(inLen >= 2 && in[0] == 0x1f && in[1] == 0x8b); /* the gzip magic */
   size_t cap = 1 << 20;
   uint8_t* out = malloc(cap);
   assert_non_null(out);
   z_stream z = { 0 };
   assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
   z.next_in = (uint8_t*)in;
   z.avail_in = (uInt)inLen;
   z.next_out = out;
   z.avail_out = (uInt)cap;
   assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
   *outLen = cap - z.avail_out;
   inflateEnd(&z);
   return out;
}

#endif
