#ifndef STACKTOP_WATCHLOG_H
#define STACKTOP_WATCHLOG_H
/* Log lines of the watcher: to stderr always, to syslog (daemon facility)
 * when not in the foreground, each with a level and the service it is about. */
#include <stdbool.h>

typedef enum WatchLogLevel_ {
   WATCHLOG_ERROR,
   WATCHLOG_WARNING,
   WATCHLOG_NOTICE,
   WATCHLOG_INFO,
   WATCHLOG_DEBUG, /* only with -v */
} WatchLogLevel;

void WatchLog_open(bool useSyslog, bool verbose);
void WatchLog_close(void);
/* service may be NULL for messages about the watcher itself. */
void WatchLog_write(WatchLogLevel level, const char* service, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
