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

typedef struct WatchService_ {
   char* name; /* from [service NAME] */
   int line;   /* line of the section header */
   bool hasMatch;
   Matcher match;
   RuleSpec rules[RULE_KIND_COUNT]; /* RULE_SYSTEM_MEM_BELOW unused here */
   char* pprofUrl;                  /* NULL: not a Go service */
   char* exec;                      /* NULL: no hook */
} WatchService;

typedef struct WatchConfig_ {
   char* path;
   double intervalS;                 /* interval, default 5s */
   char* bundleDir;                  /* bundle_dir, default /var/lib/stacktop/bundles */
   unsigned long keepBundles;        /* keep_bundles, default 20, 0 = no count limit */
   unsigned long long maxBundleDisk; /* max_bundle_disk bytes, 0 = no size limit */
   char** mailTo;                    /* mail_to, comma separated; none = no mail */
   size_t mailToCount;
   char* mailFrom;
   char* smtpUrl;
   char* smtpUser;
   char* smtpPasswordFile;
   char* smtpPassword;                   /* read from smtp_password_file at load time */
   bool smtpTlsRequired;                 /* smtp_tls = required (STARTTLS) */
   unsigned long long mailMaxAttachment; /* default 10MiB */
   double mailRetryS;                    /* first retry delay, doubling up to 1h; default 1m */
   double cooldownS;                     /* default 15m */
   unsigned long maxBundlesPerHour;      /* default 10, 0 = no cap */
   double pprofSeconds;                  /* profile?seconds=N, default 10 */
   double pprofTimeoutS;                 /* extra time allowed per pprof fetch, default 10s */
   double execTimeoutS;                  /* exec hook time limit, default 30s */
   char* hostname;                       /* hostname, default gethostname() */
   RuleSpec systemMem;                   /* system_mem_available_below */
   WatchService* services;
   size_t serviceCount;
} WatchConfig;

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
/* History capacity covering the longest growth window. */
size_t WatchConfig_historyCapacity(const WatchConfig* this);

#endif
