/* Leveled log lines to stderr and syslog. */
#include "stacktop/WatchLog.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "stacktop/Printable.h"
#include "stacktop/Util.h"

typedef struct LevelInfo_ {
   const char* name;
   int priority;
} LevelInfo;

static const LevelInfo levels[] = {
   [WATCHLOG_ERROR] = { .name = "error", .priority = LOG_ERR },
   [WATCHLOG_WARNING] = { .name = "warning", .priority = LOG_WARNING },
   [WATCHLOG_NOTICE] = { .name = "notice", .priority = LOG_NOTICE },
   [WATCHLOG_INFO] = { .name = "info", .priority = LOG_INFO },
   [WATCHLOG_DEBUG] = { .name = "debug", .priority = LOG_DEBUG },
};

/* The one piece of process-wide state of the watcher's logging: where lines
 * go is decided once by Watch_main and read by every module that logs. */
typedef struct WatchLogContext_ {
   bool useSyslog;
   bool verbose;
} WatchLogContext;

static WatchLogContext logContext;

void WatchLog_open(bool useSyslog, bool verbose) {
   logContext.useSyslog = useSyslog;
   logContext.verbose = verbose;
   if (useSyslog)
      openlog("stacktop", LOG_PID, LOG_DAEMON);
}

void WatchLog_close(void) {
   if (logContext.useSyslog)
      closelog();
   logContext.useSyslog = false;
}

void WatchLog_write(WatchLogLevel level, const char* service, const char* fmt, ...) {
   if (level == WATCHLOG_DEBUG && !logContext.verbose)
      return;
   char raw[1024], msg[1024];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(raw, sizeof(raw), fmt, ap);
   va_end(ap);
   /* Names and output of processes end up in here: no byte of theirs may
    * start a new log line or steer the terminal of whoever reads it. */
   Printable_copy(msg, sizeof(msg), raw);
   char prefix[300] = "", name[256];
   if (service)
      Util_format(prefix, sizeof(prefix), "[%s] ", Printable_copy(name, sizeof(name), service));
   time_t now = time(NULL);
   struct tm tm;
   char stamp[32];
   gmtime_r(&now, &tm);
   strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
   fprintf(stderr, "%s stacktop watch: %s: %s%s\n", stamp, levels[level].name, prefix, msg);
   fflush(stderr);
   if (logContext.useSyslog)
      syslog(levels[level].priority, "%s: %s%s", levels[level].name, prefix, msg);
}
