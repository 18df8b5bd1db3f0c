#ifndef STACKTOP_PPROF_H
#define STACKTOP_PPROF_H
/* Fetches one endpoint of a Go service's net/http/pprof with libcurl,
 * bounded in time and size. */
#include <stddef.h>

/* GETs baseUrl joined with path ("goroutine?debug=1"). Returns the body
 * (caller frees, NUL-terminated for convenience) and its length, or NULL with
 * the reason in err (connection refused, HTTP status, timeout, too large). */
char* Pprof_fetch(const char* baseUrl, const char* path, double timeoutS, size_t maxBytes,
                  size_t* len, char* err, size_t errSize);

#endif
