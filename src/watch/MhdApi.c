/* libmicrohttpd through dlopen: see MhdApi.h for why. */
#include "stacktop/MhdApi.h"

#include <pthread.h>

#include "stacktop/Dlib.h"
#include "stacktop/Util.h"

#define SONAME "libmicrohttpd.so.12"
#define PACKAGE "libmicrohttpd12"

#define ROW(sym, field)                                                                                                \
   { .name = #sym, .offset = offsetof(MhdApi, field) }
static const DlibSymbol symbols[] = {
   ROW(MHD_start_daemon, startDaemon),
   ROW(MHD_stop_daemon, stopDaemon),
   ROW(MHD_run, run),
   ROW(MHD_get_timeout, getTimeout),
   ROW(MHD_get_daemon_info, getDaemonInfo),
   ROW(MHD_get_connection_info, getConnectionInfo),
   ROW(MHD_lookup_connection_value, lookupConnectionValue),
   ROW(MHD_create_response_from_buffer, createResponseFromBuffer),
   ROW(MHD_add_response_header, addResponseHeader),
   ROW(MHD_queue_response, queueResponse),
   ROW(MHD_destroy_response, destroyResponse),
   ROW(MHD_is_feature_supported, isFeatureSupported),
};
/* Every field of the table has a row above, so a forgotten one cannot stay NULL. */
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) == sizeof(MhdApi) / sizeof(void (*)(void)),
               "symbols[] must fill every MhdApi field");

/* Process-wide by nature (a dlopen handle belongs to the process): filled once. */
static struct {
   pthread_once_t once;
   MhdApi api;
   const MhdApi* loaded;
   char error[512];
} mhdContext = { .once = PTHREAD_ONCE_INIT };

static void load(void) {
   if (Dlib_load(SONAME, PACKAGE, symbols, sizeof(symbols) / sizeof(symbols[0]), &mhdContext.api, mhdContext.error,
                 sizeof(mhdContext.error)))
      mhdContext.loaded = &mhdContext.api;
}

const MhdApi* MhdApi_get(char* err, size_t errSize) {
   pthread_once(&mhdContext.once, load);
   if (!mhdContext.loaded)
      Util_format(err, errSize, "%s", mhdContext.error);
   return mhdContext.loaded;
}
