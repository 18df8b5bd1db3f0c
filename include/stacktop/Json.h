#ifndef STACKTOP_JSON_H
#define STACKTOP_JSON_H
/* A minimal streaming JSON writer (no DOM): correct string escaping and
 * comma placement, used by batch mode, `dump --format json` and bundle
 * summaries. Nesting depth is bounded by JSON_MAX_DEPTH. */
#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct Json_ {
   FILE* out;
   int depth;
   bool needComma[JSON_MAX_DEPTH];
   bool afterKey;
} Json;

void Json_init(Json* this, FILE* out);
void Json_beginObject(Json* this);
void Json_endObject(Json* this);
void Json_beginArray(Json* this);
void Json_endArray(Json* this);
void Json_key(Json* this, const char* key);
void Json_string(Json* this, const char* s); /* NULL prints null */
void Json_int(Json* this, long long v);
void Json_uint(Json* this, unsigned long long v);
void Json_double(Json* this, double v, int decimals); /* non-finite prints null */
void Json_bool(Json* this, bool v);
void Json_null(Json* this);

#endif
