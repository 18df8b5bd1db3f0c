/* libcurl through dlopen: see CurlApi.h for why. */
#include "stacktop/CurlApi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "stacktop/Dlib.h"
#include "stacktop/Util.h"

#define CURL_SONAME "libcurl.so.4"
#define CURL_PACKAGE "libcurl4"

/* Where each symbol lands in the table. */
static const DlibSymbol symbols[] = {
   { .name = "curl_global_init", .offset = offsetof(CurlApi, globalInit) },
   { .name = "curl_easy_init", .offset = offsetof(CurlApi, easyInit) },
   { .name = "curl_easy_setopt", .offset = offsetof(CurlApi, easySetopt) },
   { .name = "curl_easy_perform", .offset = offsetof(CurlApi, easyPerform) },
   { .name = "curl_easy_getinfo", .offset = offsetof(CurlApi, easyGetinfo) },
   { .name = "curl_easy_cleanup", .offset = offsetof(CurlApi, easyCleanup) },
   { .name = "curl_easy_strerror", .offset = offsetof(CurlApi, easyStrerror) },
   { .name = "curl_slist_append", .offset = offsetof(CurlApi, slistAppend) },
   { .name = "curl_slist_free_all", .offset = offsetof(CurlApi, slistFreeAll) },
};
/* Every field of the table has a row above, so a forgotten one cannot stay NULL. */
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) == sizeof(CurlApi) / sizeof(void (*)(void)),
               "symbols[] must fill every CurlApi field");

/* Process-wide by nature: a dlopen handle and curl_global_init belong to the
 * whole process, so the table is filled once (pthread_once) and never
 * unloaded; curl_global_cleanup is never called because a later transfer in
 * the same process would then use a torn-down library. */
static struct {
   pthread_once_t once;
   CurlApi api;
   const CurlApi* loaded; /* &api once everything resolved, else NULL */
   char error[512];
} curlContext = { .once = PTHREAD_ONCE_INIT };

static void load(void) {
   void* handle = Dlib_load(CURL_SONAME, CURL_PACKAGE, symbols, sizeof(symbols) / sizeof(symbols[0]), &curlContext.api,
                            curlContext.error, sizeof(curlContext.error));
   if (!handle)
      return;
   /* curl_global_init must run once before any other curl call; here, under
    * pthread_once, it also cannot race another thread's first transfer. */
   CURLcode rc = curlContext.api.globalInit(CURL_GLOBAL_DEFAULT);
   if (rc != CURLE_OK) {
      Util_format(curlContext.error, sizeof(curlContext.error), "%s could not be initialised (curl_global_init: %s)",
                  CURL_SONAME, curlContext.api.easyStrerror(rc));
      dlclose(handle);
      return;
   }
   curlContext.loaded = &curlContext.api;
}

const CurlApi* CurlApi_get(char* err, size_t errSize) {
   pthread_once(&curlContext.once, load);
   if (!curlContext.loaded)
      Util_format(err, errSize, "%s", curlContext.error);
   return curlContext.loaded;
}
