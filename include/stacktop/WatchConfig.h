#ifndef STACKTOP_WATCHCONFIG_H
#define STACKTOP_WATCHCONFIG_H
/* The watch config file (INI, read with libinih), validated into a struct.
 * Every key lives in one table with its section, parser and the text shown
 * when its value is wrong. Errors name the file, the line and what is
 * expected; nothing is half-loaded. Format: doc/stacktop.conf.5. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stacktop/Matcher.h"
#include "stacktop/Rules.h"

/* Mail addresses, from a comma-separated list. */
typedef struct AddressList_ {
   char** items;
   size_t count;
} AddressList;

/* A file whose contents the config needs (a token, a TLS certificate or
 * key), read when the config is loaded; never printed. */
typedef struct SecretFile_ {
   char* path; /* NULL: not set */
   char* text; /* a token's first line, or a whole PEM file */
} SecretFile;

typedef struct WatchService_ {
   char* name; /* from [service NAME] */
   int line;   /* line of the section header */
   bool hasMatch;
   int matchLine;
   Matcher match;                   /* with `user` */
   RuleSpec rules[RULE_KIND_COUNT]; /* RULE_SYSTEM_MEM_BELOW unused here */
   char* pprofUrl;                  /* NULL: not a Go service */
   char* exec;                      /* NULL: no hook */
   AddressList mailTo;              /* the service's owners, added to the global mail_to */
} WatchService;

typedef struct WatchConfig_ {
   char* path;
   double intervalS;                 /* interval, default 5s */
   char* bundleDir;                  /* bundle_dir, default /var/lib/stacktop/bundles */
   unsigned long keepBundles;        /* keep_bundles, default 20, 0 = no count limit */
   unsigned long long maxBundleDisk; /* max_bundle_disk bytes, 0 = no size limit */
   AddressList mailTo;               /* mail_to, comma separated; none = no mail */
   char* mailFrom;
   char* smtpUrl;
   char* smtpUser;
   char* smtpPasswordFile;
   char* smtpPassword;                   /* read from smtp_password_file at load time */
   bool smtpTlsRequired;                 /* smtp_tls = required (STARTTLS) */
   unsigned long long mailMaxAttachment; /* default 10MiB */
   double mailRetryS;                    /* first retry delay, doubling up to 1h; default 1m */
   double mailTimeoutS;                  /* one delivery attempt, all recipients; default 2m */
   double bundleTimeoutS;                /* one bundle job, hard limit; default 5m */
   unsigned long long dumpMemory;        /* all stack copies of one dump; default 64MiB */
   double cooldownS;                     /* default 15m */
   unsigned long maxBundlesPerHour;      /* default 10, 0 = no cap */
   double pprofSeconds;                  /* profile?seconds=N, default 10 */
   double pprofTimeoutS;                 /* extra time allowed per pprof fetch, default 10s */
   double execTimeoutS;                  /* exec hook time limit, default 30s */
   char* hostname;                       /* hostname, default gethostname() */
   RuleSpec systemMem;                   /* system_mem_available_below */
   /* Prometheus and Alertmanager (issue 11); listeners are off when NULL */
   char* metricsListen;         /* metrics_listen: GET /metrics */
   char* metricsTextfile;       /* metrics_textfile: DIR/NAME.prom for node_exporter */
   SecretFile metricsToken;     /* metrics_token_file: bearer token for /metrics */
   bool metricsProcessExporter; /* metrics_process_exporter, default yes */
   char* alertListen;           /* alert_listen: POST /alertmanager */
   SecretFile alertToken;       /* alert_token_file */
   char* alertServiceLabel;     /* alert_service_label, default groupname */
   char* alertHostLabel;        /* alert_host_label, default host */
   SecretFile tlsCert;          /* tls_cert_file: PEM, both listeners speak TLS */
   SecretFile tlsKey;           /* tls_key_file */
   WatchService* services;
   size_t serviceCount;
   char** warnings; /* "FILE:LINE: ..." for things that work but are risky */
   size_t warningCount;
} WatchConfig;

/* A row of the key table as documentation sees it (the man-page test). */
typedef struct WatchConfigKey_ {
   const char* name;
   bool service;         /* a [service NAME] key, else a [global] one */
   const char* def;      /* the default in config syntax, or NULL (unset) */
   const char* expected; /* what a value looks like */
} WatchConfigKey;

/* The i-th key of the table; false past the last. */
bool WatchConfig_key(size_t i, WatchConfigKey* out);

/* Loads and validates path. Returns 0, or -1 with "FILE:LINE: message" in err
 * (the caller exits with STACKTOP_EXIT_USAGE). On failure the config is freed. */
int WatchConfig_load(WatchConfig* this, const char* path, char* err, size_t errSize);
/* Same from a string (tests); `name` stands for the file name in messages. */
int WatchConfig_loadString(WatchConfig* this, const char* text, const char* name, char* err, size_t errSize);
void WatchConfig_free(WatchConfig* this);
/* The resolved settings, services and rules (for --check-config). */
void WatchConfig_print(const WatchConfig* this, FILE* out);
/* A rule's setting in config syntax ("90% for 3", "50MiB/h over 30m"). */
void WatchConfig_formatRule(RuleKind kind, const RuleSpec* spec, char* buf, size_t size);
/* Samples a --once run takes so that every enabled rule has had its window. */
unsigned WatchConfig_samplesNeeded(const WatchConfig* this);
/* Raw samples each watched process keeps (History's sampleCapacity): enough
 * to cover a growth window until the minute buckets can (12 minutes), at
 * least HISTORY_DEFAULT_CAPACITY. Longer windows are answered from History's
 * minute and 10-minute buckets, so memory does not grow with the window. */
size_t WatchConfig_historyCapacity(const WatchConfig* this);
/* Whether any mail goes out at all (a global or a service mail_to). */
bool WatchConfig_mails(const WatchConfig* this);
/* Recipients of a bundle of `service` (NULL: the system rule): the global
 * mail_to plus the service's, each once. Pointers into the config; caller
 * frees the array. */
const char** WatchConfig_recipients(const WatchConfig* this, const WatchService* service, size_t* count);
/* The service named so, or NULL. */
const WatchService* WatchConfig_service(const WatchConfig* this, const char* name);
/* Whether the watcher exports metrics (a listener or a textfile). */
bool WatchConfig_exportsMetrics(const WatchConfig* this);

#endif
