#ifndef STACKTOP_PPROF_H
#define STACKTOP_PPROF_H
/* Fetches one endpoint of a Go service's net/http/pprof with libcurl,
 * bounded in time and size. */
#include <stddef.h>

typedef enum PprofError_ {
   PPROF_OK,
   PPROF_UNREACHABLE, /* no connection: other endpoints will not answer either */
   PPROF_FAILED,      /* HTTP error, timeout, too large */
} PprofError;

/* GETs baseUrl joined with path ("goroutine?debug=1"). Returns the body
 * (caller frees, NUL-terminated for convenience) and its length, or NULL with
 * the error class in *error and the reason in err. */
char* Pprof_fetch(const char* baseUrl, const char* path, double timeoutS, size_t maxBytes, size_t* len,
                  PprofError* error, char* err, size_t errSize);

#endif
