/* libjansson through dlopen: see JanssonApi.h for why. */
#include "stacktop/JanssonApi.h"

#include <pthread.h>

#include "stacktop/Dlib.h"
#include "stacktop/Util.h"

#define SONAME "libjansson.so.4"
#define PACKAGE "libjansson4"

#define ROW(sym, field)                                                                                                \
   { .name = #sym, .offset = offsetof(JanssonApi, field) }
static const DlibSymbol symbols[] = {
   ROW(json_loadb, loadb),
   ROW(json_delete, del),
   ROW(json_object_get, objectGet),
   ROW(json_object_iter, objectIter),
   ROW(json_object_iter_next, objectIterNext),
   ROW(json_object_iter_key, objectIterKey),
   ROW(json_object_iter_value, objectIterValue),
   ROW(json_array_size, arraySize),
   ROW(json_array_get, arrayGet),
   ROW(json_string_value, stringValue),
   ROW(json_string_length, stringLength),
   ROW(json_integer_value, integerValue),
};
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) == sizeof(JanssonApi) / sizeof(void (*)(void)),
               "symbols[] must fill every JanssonApi field");

/* Process-wide by nature (a dlopen handle belongs to the process): filled once. */
static struct {
   pthread_once_t once;
   JanssonApi api;
   const JanssonApi* loaded;
   char error[512];
} janssonContext = { .once = PTHREAD_ONCE_INIT };

static void load(void) {
   if (Dlib_load(SONAME, PACKAGE, symbols, sizeof(symbols) / sizeof(symbols[0]), &janssonContext.api,
                 janssonContext.error, sizeof(janssonContext.error)))
      janssonContext.loaded = &janssonContext.api;
}

const JanssonApi* JanssonApi_get(char* err, size_t errSize) {
   pthread_once(&janssonContext.once, load);
   if (!janssonContext.loaded)
      Util_format(err, errSize, "%s", janssonContext.error);
   return janssonContext.loaded;
}
