#ifndef STACKTOP_MHDAPI_H
#define STACKTOP_MHDAPI_H
/* GNU libmicrohttpd loaded with dlopen on first use: only `stacktop watch`
 * with metrics_listen or alert_listen serves HTTP, so the monitor, dumps and
 * a watcher without listeners do not load it nor GnuTLS behind it.
 * <microhttpd.h> gives the types and constants; every call goes through this
 * table (__typeof__ ties each pointer to the header's declaration). */
#include <stddef.h>
#include <sys/types.h>

#include <microhttpd.h>

typedef struct MhdApi_ {
   __typeof__(MHD_start_daemon)* startDaemon;
   __typeof__(MHD_stop_daemon)* stopDaemon;
   __typeof__(MHD_run)* run;
   __typeof__(MHD_get_timeout)* getTimeout;
   __typeof__(MHD_get_daemon_info)* getDaemonInfo;
   __typeof__(MHD_get_connection_info)* getConnectionInfo;
   __typeof__(MHD_lookup_connection_value)* lookupConnectionValue;
   __typeof__(MHD_create_response_from_buffer)* createResponseFromBuffer;
   __typeof__(MHD_add_response_header)* addResponseHeader;
   __typeof__(MHD_queue_response)* queueResponse;
   __typeof__(MHD_destroy_response)* destroyResponse;
   __typeof__(MHD_is_feature_supported)* isFeatureSupported;
} MhdApi;

/* Loads libmicrohttpd.so.12 once per process (thread-safe). Returns the
 * process-wide table (never freed), or NULL with a one-line message in err,
 * the same on every later call. */
const MhdApi* MhdApi_get(char* err, size_t errSize);

#endif
