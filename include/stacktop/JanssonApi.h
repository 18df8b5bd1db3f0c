#ifndef STACKTOP_JANSSONAPI_H
#define STACKTOP_JANSSONAPI_H
/* libjansson (a JSON parser) loaded with dlopen on first use: only the
 * Alertmanager receiver of `stacktop watch` parses JSON. <jansson.h> gives
 * the types and the json_is_* macros (they read the value's type field);
 * every call goes through this table. The parsed tree is freed with
 * `del` on the root (json_decref is an inline that would call the library
 * directly). */
#include <stddef.h>

#include <jansson.h>

typedef struct JanssonApi_ {
   __typeof__(json_loadb)* loadb;
   __typeof__(json_delete)* del;
   __typeof__(json_object_get)* objectGet;
   __typeof__(json_object_iter)* objectIter;
   __typeof__(json_object_iter_next)* objectIterNext;
   __typeof__(json_object_iter_key)* objectIterKey;
   __typeof__(json_object_iter_value)* objectIterValue;
   __typeof__(json_array_size)* arraySize;
   __typeof__(json_array_get)* arrayGet;
   __typeof__(json_string_value)* stringValue;
   __typeof__(json_string_length)* stringLength;
   __typeof__(json_integer_value)* integerValue;
} JanssonApi;

/* Loads libjansson.so.4 once per process (thread-safe). Returns the
 * process-wide table (never freed), or NULL with a one-line message in err. */
const JanssonApi* JanssonApi_get(char* err, size_t errSize);

#endif
