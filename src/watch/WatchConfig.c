/* Watch config: libinih drives the lines, one key table validates them. */
#include "stacktop/WatchConfig.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/BundleDir.h"
#include "stacktop/HttpServer.h"
#include "stacktop/Units.h"
#include "stacktop/Util.h"

typedef enum Section_ {
   SECTION_NONE,
   SECTION_GLOBAL,
   SECTION_SERVICE,
   SECTION_UNKNOWN,
} Section;

/* Where a key's field lives: in the WatchConfig or in the current service. */
typedef struct ParseState_ ParseState;
typedef int (*ValueParser)(ParseState* st, const char* value, void* field);
typedef void (*ValuePrinter)(const void* field, FILE* out);

/* What a key holds. Plain values (durations, sizes, counts, text) get their
 * parser and printer from their kind; other rows name their own. TEXT, LIST
 * and RULE keys may be unset, so the printout leaves them out. */
typedef enum ConfigKind_ {
   CONFIG_VALUE,    /* always has a value; the row's own parser and printer */
   CONFIG_DURATION, /* double, seconds */
   CONFIG_SIZE,     /* unsigned long long, bytes */
   CONFIG_COUNT,    /* unsigned long */
   CONFIG_TEXT,     /* an optional string: unset when NULL */
   CONFIG_LIST,     /* an address list: unset when empty */
   CONFIG_RULE,     /* a RuleSpec: unset when not enabled */
   CONFIG_SECRET,   /* a SecretFile: unset without a path */
} ConfigKind;

/* One key: its type, default, range and help live together. */
typedef struct ConfigKey_ {
   Section section;
   const char* name;
   ConfigKind kind;
   ValueParser parse; /* NULL: the kind's */
   ValuePrinter print;
   size_t offset;        /* into WatchConfig (global) or WatchService */
   const char* expected; /* shown after "expected " when the value is bad */
   const char* def;      /* the default, in config syntax (NULL: unset or 0) */
   double min, max;      /* range of DURATION/SIZE/COUNT values (max 0: none) */
   const char* why;      /* the reason for the range, shown with it */
} ConfigKey;

struct ParseState_ {
   WatchConfig* config;
   const char* file;
   FILE* in;
   int line;
   Section section;
   WatchService* service; /* current [service NAME] */
   uint64_t* seen;        /* per section (0 = global, 1+i = service i): keys given */
   size_t seenCap;
   int mailToLine; /* first mail_to, in any section */
   char* err;
   size_t errSize;
   bool failed;
   char detail[256]; /* a parser's own explanation, overrides `expected` */
};

/* ---- value parsers (return 0, or -1 leaving st->detail empty or explained) */

static int parseDuration(ParseState* st, const char* v, void* field) {
   (void)st;
   return Units_parseDuration(v, field);
}

static int parseBundleDir(ParseState* st, const char* v, void* field) {
   char why[256];
   if (BundleDir_checkPath(v, why, sizeof(why)) < 0) {
      Util_format(st->detail, sizeof(st->detail), "%s", why);
      return -1;
   }
   char** s = field;
   free(*s);
   *s = Util_xstrdup(v);
   return 0;
}

static int parseSize(ParseState* st, const char* v, void* field) {
   (void)st;
   return Units_parseSize(v, field);
}

static int parseCount(ParseState* st, const char* v, void* field) {
   (void)st;
   return Units_parseCount(v, field);
}

static int parseText(ParseState* st, const char* v, void* field) {
   (void)st;
   if (v[0] == '\0')
      return -1;
   char** s = field;
   free(*s);
   *s = Util_xstrdup(v);
   return 0;
}

static int parseUrlWith(ParseState* st, const char* v, void* field, const char* const* schemes) {
   for (; *schemes; schemes++) {
      size_t n = strlen(*schemes);
      if (strncasecmp(v, *schemes, n) == 0 && v[n] != '\0')
         return parseText(st, v, field);
   }
   return -1;
}

static int parseSmtpUrl(ParseState* st, const char* v, void* field) {
   static const char* const schemes[] = { "smtp://", "smtps://", NULL };
   return parseUrlWith(st, v, field, schemes);
}

static int parseHttpUrl(ParseState* st, const char* v, void* field) {
   static const char* const schemes[] = { "http://", "https://", NULL };
   return parseUrlWith(st, v, field, schemes);
}

static bool plausibleAddress(const char* a) {
   const char* at = strchr(a, '@');
   return at && at != a && at[1] != '\0' && !strpbrk(a, " \t<>,;\"\r\n");
}

static int parseAddress(ParseState* st, const char* v, void* field) {
   return plausibleAddress(v) ? parseText(st, v, field) : -1;
}

/* A comma-separated list of addresses into an AddressList. */
static int parseMailList(ParseState* st, const char* v, void* field) {
   AddressList* list = field;
   char* copy = Util_xstrdup(v);
   char* save = NULL;
   size_t cap = 0;
   int rc = 0;
   for (char* tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      while (*tok == ' ' || *tok == '\t')
         tok++;
      size_t len = strlen(tok);
      while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
         tok[--len] = '\0';
      if (!plausibleAddress(tok)) {
         Util_format(st->detail, sizeof(st->detail), "'%s' is not a mail address; expected user@host, comma separated",
                     tok);
         rc = -1;
         break;
      }
      Util_growArray((void**)&list->items, &cap, list->count, sizeof(char*));
      list->items[list->count++] = Util_xstrdup(tok);
   }
   free(copy);
   if (rc == 0 && list->count == 0)
      rc = -1;
   if (st->mailToLine == 0)
      st->mailToLine = st->line;
   return rc;
}

static int parseUsers(ParseState* st, const char* v, void* field) {
   char why[200];
   if (Matcher_parseUsers(field, v, why, sizeof(why)) < 0) {
      Util_format(st->detail, sizeof(st->detail), "%s", why);
      return -1;
   }
   return 0;
}

static int parseTls(ParseState* st, const char* v, void* field) {
   (void)st;
   bool* b = field;
   if (strcmp(v, "required") == 0)
      *b = true;
   else if (strcmp(v, "none") == 0)
      *b = false;
   else
      return -1;
   return 0;
}

static int parsePasswordFile(ParseState* st, const char* v, void* field) {
   if (v[0] != '/')
      return -1;
   size_t len;
   char* pw = Util_slurp(v, 4096, &len);
   if (!pw) {
      Util_format(st->detail, sizeof(st->detail),
                  "cannot read '%s': %s; expected a file readable by stacktop holding the SMTP password", v,
                  strerror(errno));
      return -1;
   }
   pw[strcspn(pw, "\r\n")] = '\0';
   free(st->config->smtpPassword);
   st->config->smtpPassword = pw;
   return parseText(st, v, field);
}

/* A file read now: a token (its first line) or a PEM certificate or key (whole). */
static int readSecret(ParseState* st, const char* v, SecretFile* f, bool firstLine, const char* holding) {
   if (v[0] != '/')
      return -1;
   size_t len;
   char* text = Util_slurp(v, firstLine ? 4096 : 1u << 20, &len);
   if (!text) {
      Util_format(st->detail, sizeof(st->detail),
                  "cannot read '%s': %s; expected a file readable by stacktop holding %s", v, strerror(errno), holding);
      return -1;
   }
   if (firstLine)
      text[strcspn(text, "\r\n")] = '\0';
   if (text[0] == '\0' || (!firstLine && !strstr(text, "-----BEGIN "))) {
      Util_format(st->detail, sizeof(st->detail), "'%s' holds no %s; expected a file holding %s", v,
                  firstLine ? "token" : "PEM data", holding);
      free(text);
      return -1;
   }
   free(f->path);
   free(f->text);
   f->path = Util_xstrdup(v);
   f->text = text;
   return 0;
}

static int parseTokenFile(ParseState* st, const char* v, void* field) {
   return readSecret(st, v, field, true, "the bearer token on its first line");
}

static int parsePemFile(ParseState* st, const char* v, void* field) {
   return readSecret(st, v, field, false, "a PEM certificate or key");
}

/* A listen address, kept normalised ("9256" becomes "127.0.0.1:9256"). */
static int parseListen(ParseState* st, const char* v, void* field) {
   HttpAddress a;
   char why[256];
   if (HttpServer_parseAddress(v, &a, why, sizeof(why)) < 0) {
      Util_format(st->detail, sizeof(st->detail), "%s", why);
      return -1;
   }
   return parseText(st, a.text, field);
}

static int parseTextfile(ParseState* st, const char* v, void* field) {
   size_t n = strlen(v);
   const char* slash = strrchr(v, '/');
   if (v[0] != '/' || n < 6 || strcmp(v + n - 5, ".prom") != 0 || !slash || slash[1] == '.')
      return -1;
   return parseText(st, v, field);
}

static int parseLabelName(ParseState* st, const char* v, void* field) {
   size_t n = strlen(v);
   if (n == 0 || n > 64 || (v[0] >= '0' && v[0] <= '9') ||
       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n)
      return -1;
   return parseText(st, v, field);
}

static int parseYesNo(ParseState* st, const char* v, void* field) {
   (void)st;
   bool* b = field;
   if (strcmp(v, "yes") == 0)
      *b = true;
   else if (strcmp(v, "no") == 0)
      *b = false;
   else
      return -1;
   return 0;
}

static int parseMatch(ParseState* st, const char* v, void* field) {
   Matcher* m = field;
   if (st->service->hasMatch && m->kind == MATCH_CMDLINE)
      regfree(&m->regex);
   if (st->service->hasMatch)
      free(m->text);
   m->text = NULL;
   st->service->hasMatch = false;
   char why[200];
   if (Matcher_parse(m, v, why, sizeof(why)) < 0) {
      Util_format(st->detail, sizeof(st->detail), "%s", why);
      return -1;
   }
   st->service->hasMatch = true;
   st->service->matchLine = st->line;
   return 0;
}

static int parseCpuRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   if (Units_parsePercentFor(v, &r->threshold, &r->forSamples) < 0)
      return -1;
   r->enabled = true;
   return 0;
}

static int parseBoundedPercentRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   if (Units_parsePercentFor(v, &r->threshold, &r->forSamples) < 0 || r->threshold > 100)
      return -1;
   r->enabled = true;
   return 0;
}

static int parseSizeRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   unsigned long long bytes;
   if (Units_parseSize(v, &bytes) < 0 || bytes == 0)
      return -1;
   r->threshold = (double)bytes / 1024.0;
   r->forSamples = 1;
   r->enabled = true;
   return 0;
}

static int parseCountRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   unsigned long n;
   if (Units_parseCount(v, &n) < 0 || n == 0)
      return -1;
   r->threshold = (double)n;
   r->forSamples = 1;
   r->enabled = true;
   return 0;
}

static int parseCountForRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   unsigned long n;
   if (Units_parseCountFor(v, &n, &r->forSamples) < 0)
      return -1;
   r->threshold = (double)n;
   r->enabled = true;
   return 0;
}

static int parseGrowthRule(ParseState* st, const char* v, void* field, bool sized) {
   RuleSpec* r = field;
   (void)st; /* the window is checked against the interval in validate(): keys may come in any order */
   if (Units_parseRate(v, sized, &r->threshold, &r->windowS) < 0)
      return -1;
   r->forSamples = 1;
   r->enabled = true;
   return 0;
}

static int parseResGrowthRule(ParseState* st, const char* v, void* field) {
   return parseGrowthRule(st, v, field, true);
}

static int parseThreadGrowthRule(ParseState* st, const char* v, void* field) {
   return parseGrowthRule(st, v, field, false);
}

static int parseRestartRule(ParseState* st, const char* v, void* field) {
   (void)st;
   RuleSpec* r = field;
   if (strcmp(v, "alert") == 0)
      r->enabled = true;
   else if (strcmp(v, "ignore") == 0)
      r->enabled = false;
   else
      return -1;
   r->forSamples = 1;
   return 0;
}

/* ---- printers (resolved values for --check-config) */

static void formatDuration(double s, char* buf, size_t size) {
   if (s >= 3600 && fmod(s, 3600) == 0)
      Util_format(buf, size, "%gh", s / 3600);
   else if (s >= 60 && fmod(s, 60) == 0)
      Util_format(buf, size, "%gm", s / 60);
   else if (s >= 1)
      Util_format(buf, size, "%gs", s);
   else
      Util_format(buf, size, "%gms", s * 1000);
}

static void formatSize(double bytes, char* buf, size_t size) {
   static const char* const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
   size_t u = 0;
   while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= 1024) {
      bytes /= 1024;
      u++;
   }
   Util_format(buf, size, "%g%s", bytes, units[u]);
}

static void formatCount(double n, char* buf, size_t size) {
   Util_format(buf, size, "%g", n);
}

static void printDurationValue(double s, FILE* out) {
   char buf[64];
   formatDuration(s, buf, sizeof(buf));
   fputs(buf, out);
}

static void printSizeValue(double bytes, FILE* out) {
   char buf[64];
   formatSize(bytes, buf, sizeof(buf));
   fputs(buf, out);
}

static void printDuration(const void* field, FILE* out) {
   printDurationValue(*(const double*)field, out);
}

static void printSize(const void* field, FILE* out) {
   printSizeValue((double)*(const unsigned long long*)field, out);
}

static void printCount(const void* field, FILE* out) {
   fprintf(out, "%lu", *(const unsigned long*)field);
}

static void printText(const void* field, FILE* out) {
   const char* s = *(const char* const*)field;
   fputs(s ? s : "(unset)", out);
}

static void printMailList(const void* field, FILE* out) {
   const AddressList* l = field;
   for (size_t i = 0; i < l->count; i++)
      fprintf(out, "%s%s", i ? ", " : "", l->items[i]);
}

static void printUsers(const void* field, FILE* out) {
   char buf[512];
   Matcher_describeUsers(field, buf, sizeof(buf));
   fputs(buf, out);
}

static void printTls(const void* field, FILE* out) {
   fputs(*(const bool*)field ? "required" : "none", out);
}

static void printSecret(const void* field, FILE* out) {
   const SecretFile* f = field;
   fputs(f->path ? f->path : "(unset)", out);
}

static void printYesNo(const void* field, FILE* out) {
   fputs(*(const bool*)field ? "yes" : "no", out);
}

static void printMatch(const void* field, FILE* out) {
   char buf[256];
   Matcher_describe(field, buf, sizeof(buf));
   fputs(buf, out);
}

static void printPercentRule(const void* field, FILE* out) {
   const RuleSpec* r = field;
   fprintf(out, "%g%% for %u", r->threshold, r->forSamples);
}

static void printSizeRule(const void* field, FILE* out) {
   printSizeValue(((const RuleSpec*)field)->threshold * 1024.0, out);
}

static void printCountRule(const void* field, FILE* out) {
   fprintf(out, "%g", ((const RuleSpec*)field)->threshold);
}

static void printCountForRule(const void* field, FILE* out) {
   const RuleSpec* r = field;
   fprintf(out, "%g for %u", r->threshold, r->forSamples);
}

static void printResGrowthRule(const void* field, FILE* out) {
   const RuleSpec* r = field;
   printSizeValue(r->threshold * 1024.0 * 60.0, out);
   fputs("/h over ", out);
   printDurationValue(r->windowS, out);
}

static void printThreadGrowthRule(const void* field, FILE* out) {
   const RuleSpec* r = field;
   fprintf(out, "%g/h over ", r->threshold * 60.0);
   printDurationValue(r->windowS, out);
}

static void printRestartRule(const void* field, FILE* out) {
   (void)field;
   fputs("alert", out);
}

/* ---- what each kind of plain value reads and prints */

typedef struct KindInfo_ {
   ValueParser parse;
   ValuePrinter print;
   void (*format)(double value, char* buf, size_t size); /* a range limit */
   const char* noun;                                     /* "a duration", for range messages */
} KindInfo;

static const KindInfo kinds[] = {
   [CONFIG_DURATION] = { .parse = parseDuration,
                         .print = printDuration,
                         .format = formatDuration,
                         .noun = "a duration" },
   [CONFIG_SIZE] = { .parse = parseSize, .print = printSize, .format = formatSize, .noun = "a size" },
   [CONFIG_COUNT] = { .parse = parseCount, .print = printCount, .format = formatCount, .noun = "a number" },
   [CONFIG_TEXT] = { .parse = parseText, .print = printText },
};

static ValueParser parserOf(const ConfigKey* k) {
   ValueParser p = k->parse ? k->parse : kinds[k->kind].parse;
   assert(p);
   return p;
}

static ValuePrinter printerOf(const ConfigKey* k) {
   ValuePrinter p = k->print ? k->print : kinds[k->kind].print;
   assert(p);
   return p;
}

static double numberAt(ConfigKind kind, const void* field) {
   switch (kind) {
   case CONFIG_DURATION: return *(const double*)field;
   case CONFIG_SIZE: return (double)*(const unsigned long long*)field;
   case CONFIG_COUNT: return (double)*(const unsigned long*)field;
   default: return 0;
   }
}

/* The row's range, if it has one; the message names the limits and why. */
static int checkRange(ParseState* st, const ConfigKey* k, const void* field) {
   if (k->min == 0 && k->max == 0)
      return 0;
   assert(kinds[k->kind].format);
   double v = numberAt(k->kind, field);
   if (v >= k->min && (k->max == 0 || v <= k->max))
      return 0;
   char lo[64], hi[64];
   kinds[k->kind].format(k->min, lo, sizeof(lo));
   kinds[k->kind].format(k->max, hi, sizeof(hi));
   if (k->max > 0)
      Util_format(st->detail, sizeof(st->detail), "expected %s from %s to %s (%s)", kinds[k->kind].noun, lo, hi,
                  k->why);
   else
      Util_format(st->detail, sizeof(st->detail), "expected at least %s (%s)", lo, k->why);
   return -1;
}

#define G(field) offsetof(WatchConfig, field)
#define S(field) offsetof(WatchService, field)
#define DURATION_TEXT "a duration such as 200ms, 5s, 15m or 1h"
#define SIZE_TEXT "a size such as 4096, 512KiB, 500MiB or 2GiB"

static const ConfigKey keys[] = {
   /* Rows are in man-page order; test_watchconfig checks each key and its
    * default against doc/stacktop.conf.5. */
   { .section = SECTION_GLOBAL,
     .name = "interval",
     .kind = CONFIG_DURATION,
     .def = "5s",
     .min = 0.1,
     .max = 3600,
     .why = "shorter would keep a core busy sampling",
     .offset = G(intervalS),
     .expected = DURATION_TEXT },
   { .section = SECTION_GLOBAL,
     .name = "bundle_dir",
     .parse = parseBundleDir,
     .kind = CONFIG_TEXT,
     .def = "/var/lib/stacktop/bundles",
     .offset = G(bundleDir),
     .expected = "an absolute directory path" },
   { .section = SECTION_GLOBAL,
     .name = "keep_bundles",
     .kind = CONFIG_COUNT,
     .def = "20",
     .offset = G(keepBundles),
     .expected = "a whole number of bundles to keep (0 = no limit)" },
   { .section = SECTION_GLOBAL,
     .name = "max_bundle_disk",
     .kind = CONFIG_SIZE,
     .def = "0",
     .offset = G(maxBundleDisk),
     .expected = SIZE_TEXT " (0 = no limit)" },
   { .section = SECTION_GLOBAL,
     .name = "mail_to",
     .parse = parseMailList,
     .print = printMailList,
     .kind = CONFIG_LIST,
     .offset = G(mailTo),
     .expected = "mail addresses, comma separated: ops@example.com, dev@example.com" },
   { .section = SECTION_GLOBAL,
     .name = "mail_from",
     .parse = parseAddress,
     .kind = CONFIG_TEXT,
     .offset = G(mailFrom),
     .expected = "one mail address such as stacktop@host.example.com" },
   { .section = SECTION_GLOBAL,
     .name = "smtp_url",
     .parse = parseSmtpUrl,
     .kind = CONFIG_TEXT,
     .offset = G(smtpUrl),
     .expected = "smtp://HOST[:PORT] or smtps://HOST[:PORT]" },
   { .section = SECTION_GLOBAL,
     .name = "smtp_user",
     .kind = CONFIG_TEXT,
     .offset = G(smtpUser),
     .expected = "a user name" },
   { .section = SECTION_GLOBAL,
     .name = "smtp_password_file",
     .parse = parsePasswordFile,
     .kind = CONFIG_TEXT,
     .offset = G(smtpPasswordFile),
     .expected = "the absolute path of a file holding the SMTP password" },
   { .section = SECTION_GLOBAL,
     .name = "smtp_tls",
     .parse = parseTls,
     .print = printTls,
     .def = "none",
     .offset = G(smtpTlsRequired),
     .expected = "'required' (STARTTLS) or 'none'" },
   { .section = SECTION_GLOBAL,
     .name = "mail_max_attachment",
     .kind = CONFIG_SIZE,
     .def = "10MiB",
     .offset = G(mailMaxAttachment),
     .expected = SIZE_TEXT },
   { .section = SECTION_GLOBAL,
     .name = "mail_retry",
     .kind = CONFIG_DURATION,
     .def = "1m",
     .min = 0.1,
     .max = 3600,
     .why = "the first retry delay; later ones double up to 1h",
     .offset = G(mailRetryS),
     .expected = DURATION_TEXT " (first retry delay, doubled up to 1h)" },
   { .section = SECTION_GLOBAL,
     .name = "mail_timeout",
     .kind = CONFIG_DURATION,
     .def = "2m",
     .min = 0.1,
     .max = 3600,
     .why = "a time limit that is actually enforced",
     .offset = G(mailTimeoutS),
     .expected = DURATION_TEXT " (one delivery attempt to every recipient)" },
   { .section = SECTION_GLOBAL,
     .name = "cooldown",
     .kind = CONFIG_DURATION,
     .def = "15m",
     .offset = G(cooldownS),
     .expected = DURATION_TEXT },
   { .section = SECTION_GLOBAL,
     .name = "max_bundles_per_hour",
     .kind = CONFIG_COUNT,
     .def = "10",
     .offset = G(maxBundlesPerHour),
     .expected = "a whole number (0 = no cap)" },
   { .section = SECTION_GLOBAL,
     .name = "pprof_seconds",
     .kind = CONFIG_DURATION,
     .def = "10s",
     .offset = G(pprofSeconds),
     .expected = "a whole number of seconds such as 10s for profile?seconds=N" },
   { .section = SECTION_GLOBAL,
     .name = "pprof_timeout",
     .kind = CONFIG_DURATION,
     .def = "10s",
     .min = 0.1,
     .max = 3600,
     .why = "a time limit that is actually enforced",
     .offset = G(pprofTimeoutS),
     .expected = DURATION_TEXT },
   { .section = SECTION_GLOBAL,
     .name = "exec_timeout",
     .kind = CONFIG_DURATION,
     .def = "30s",
     .min = 0.1,
     .max = 3600,
     .why = "a time limit that is actually enforced",
     .offset = G(execTimeoutS),
     .expected = DURATION_TEXT },
   { .section = SECTION_GLOBAL,
     .name = "bundle_timeout",
     .kind = CONFIG_DURATION,
     .def = "5m",
     .min = 0.1,
     .max = 3600,
     .why = "a time limit that is actually enforced",
     .offset = G(bundleTimeoutS),
     .expected = DURATION_TEXT " (one bundle: stacks, files, pprof, compression)" },
   { .section = SECTION_GLOBAL,
     .name = "dump_memory",
     .kind = CONFIG_SIZE,
     .def = "64MiB",
     .min = 1048576,
     .why = "the stack copies of one dump",
     .offset = G(dumpMemory),
     .expected = SIZE_TEXT " (all stack copies of one dump)" },
   { .section = SECTION_GLOBAL,
     .name = "hostname",
     .kind = CONFIG_TEXT,
     .offset = G(hostname),
     .expected = "a host name for bundle names and mail" },
   { .section = SECTION_GLOBAL,
     .name = "system_mem_available_below",
     .parse = parseBoundedPercentRule,
     .print = printPercentRule,
     .kind = CONFIG_RULE,
     .offset = G(systemMem),
     .expected = "a percentage of MemTotal, optionally held for N samples: 10% or 10% for 3" },
   { .section = SECTION_GLOBAL,
     .name = "metrics_listen",
     .kind = CONFIG_TEXT,
     .parse = parseListen,
     .print = printText,
     .offset = G(metricsListen),
     .expected = "ADDR:PORT (or PORT, on 127.0.0.1) to serve Prometheus metrics at /metrics, e.g. 127.0.0.1:9256" },
   { .section = SECTION_GLOBAL,
     .name = "metrics_textfile",
     .kind = CONFIG_TEXT,
     .parse = parseTextfile,
     .print = printText,
     .offset = G(metricsTextfile),
     .expected = "an absolute path ending in .prom in node_exporter's textfile directory, e.g. "
                 "/var/lib/prometheus/node-exporter/stacktop.prom" },
   { .section = SECTION_GLOBAL,
     .name = "metrics_token_file",
     .kind = CONFIG_SECRET,
     .parse = parseTokenFile,
     .print = printSecret,
     .offset = G(metricsToken),
     .expected = "the absolute path of a file holding the bearer token /metrics wants" },
   { .section = SECTION_GLOBAL,
     .name = "metrics_process_exporter",
     .def = "yes",
     .kind = CONFIG_VALUE,
     .parse = parseYesNo,
     .print = printYesNo,
     .offset = G(metricsProcessExporter),
     .expected = "'yes' (also export process-exporter's namedprocess_namegroup_* metrics) or 'no'" },
   { .section = SECTION_GLOBAL,
     .name = "alert_listen",
     .kind = CONFIG_TEXT,
     .parse = parseListen,
     .print = printText,
     .offset = G(alertListen),
     .expected = "ADDR:PORT (or PORT, on 127.0.0.1) to receive Alertmanager webhooks at /alertmanager" },
   { .section = SECTION_GLOBAL,
     .name = "alert_token_file",
     .kind = CONFIG_SECRET,
     .parse = parseTokenFile,
     .print = printSecret,
     .offset = G(alertToken),
     .expected = "the absolute path of a file holding the bearer token Alertmanager sends" },
   { .section = SECTION_GLOBAL,
     .name = "alert_service_label",
     .def = "groupname",
     .kind = CONFIG_TEXT,
     .parse = parseLabelName,
     .print = printText,
     .offset = G(alertServiceLabel),
     .expected = "the alert label that names the [service], a Prometheus label name (default groupname)" },
   { .section = SECTION_GLOBAL,
     .name = "alert_host_label",
     .def = "host",
     .kind = CONFIG_TEXT,
     .parse = parseLabelName,
     .print = printText,
     .offset = G(alertHostLabel),
     .expected = "the alert label that names the host, a Prometheus label name (default host)" },
   { .section = SECTION_GLOBAL,
     .name = "tls_cert_file",
     .kind = CONFIG_SECRET,
     .parse = parsePemFile,
     .print = printSecret,
     .offset = G(tlsCert),
     .expected = "the absolute path of a PEM certificate (chain) for HTTPS on metrics_listen and alert_listen" },
   { .section = SECTION_GLOBAL,
     .name = "tls_key_file",
     .kind = CONFIG_SECRET,
     .parse = parsePemFile,
     .print = printSecret,
     .offset = G(tlsKey),
     .expected = "the absolute path of the PEM private key of tls_cert_file" },
   { .section = SECTION_SERVICE,
     .name = "match",
     .parse = parseMatch,
     .print = printMatch,
     .offset = S(match),
     .expected = "comm:NAME, exe:/PATH, cmdline:/REGEX/, pidfile:/PATH or pid:N" },
   { .section = SECTION_SERVICE,
     .name = "user",
     .parse = parseUsers,
     .print = printUsers,
     .offset = S(match),
     .expected = "'any', or user names or uids, comma separated: root, www-data" },
   { .section = SECTION_SERVICE,
     .name = "cpu_above",
     .parse = parseCpuRule,
     .print = printPercentRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_CPU_ABOVE]),
     .expected = "a percentage of one core, optionally held for N samples: 90% or 90% for 3" },
   { .section = SECTION_SERVICE,
     .name = "res_above",
     .parse = parseSizeRule,
     .print = printSizeRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_RES_ABOVE]),
     .expected = SIZE_TEXT },
   { .section = SECTION_SERVICE,
     .name = "res_growth_above",
     .parse = parseResGrowthRule,
     .print = printResGrowthRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_RES_GROWTH_ABOVE]),
     .expected = "a size per s, m or h over a window: 50MiB/h over 30m" },
   { .section = SECTION_SERVICE,
     .name = "threads_above",
     .parse = parseCountRule,
     .print = printCountRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_THREADS_ABOVE]),
     .expected = "a whole number of threads, at least 1, e.g. 500" },
   { .section = SECTION_SERVICE,
     .name = "thread_growth_above",
     .parse = parseThreadGrowthRule,
     .print = printThreadGrowthRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_THREAD_GROWTH_ABOVE]),
     .expected = "a thread count per s, m or h over a window: 100/h over 30m" },
   { .section = SECTION_SERVICE,
     .name = "fds_above",
     .parse = parseBoundedPercentRule,
     .print = printPercentRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_FDS_ABOVE]),
     .expected = "a percentage of the open-files limit (RLIMIT_NOFILE): 80%" },
   { .section = SECTION_SERVICE,
     .name = "goroutines_above",
     .parse = parseCountForRule,
     .print = printCountForRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_GOROUTINES_ABOVE]),
     .expected = "a whole number of goroutines, optionally held for N samples: 10000 or 10000 for 3" },
   { .section = SECTION_SERVICE,
     .name = "goroutine_growth_above",
     .parse = parseThreadGrowthRule,
     .print = printThreadGrowthRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_GOROUTINE_GROWTH_ABOVE]),
     .expected = "a goroutine count per s, m or h over a window: 100/h over 30m" },
   { .section = SECTION_SERVICE,
     .name = "restart",
     .parse = parseRestartRule,
     .print = printRestartRule,
     .kind = CONFIG_RULE,
     .offset = S(rules[RULE_RESTART]),
     .expected = "'alert' or 'ignore'" },
   { .section = SECTION_SERVICE,
     .name = "pprof_url",
     .parse = parseHttpUrl,
     .kind = CONFIG_TEXT,
     .offset = S(pprofUrl),
     .expected = "an http:// URL of net/http/pprof, e.g. http://127.0.0.1:6060/debug/pprof/" },
   { .section = SECTION_SERVICE,
     .name = "exec",
     .kind = CONFIG_TEXT,
     .offset = S(exec),
     .expected = "a command run by /bin/sh after each bundle" },
   { .section = SECTION_SERVICE,
     .name = "mail_to",
     .parse = parseMailList,
     .print = printMailList,
     .kind = CONFIG_LIST,
     .offset = S(mailTo),
     .expected = "mail addresses of the service's owners, comma separated (added to the global mail_to)" },
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= 64, "ParseState.seen is a 64-bit mask");

/* ---- errors */

__attribute__((format(printf, 3, 4))) static void fail(ParseState* st, int line, const char* fmt, ...) {
   if (st->failed)
      return; /* the first error is the one reported */
   st->failed = true;
   char msg[768];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(msg, sizeof(msg), fmt, ap);
   va_end(ap);
   if (line > 0)
      Util_format(st->err, st->errSize, "%s:%d: %s", st->file, line, msg);
   else
      Util_format(st->err, st->errSize, "%s: %s", st->file, msg);
}

/* Something that works but is risky: kept with the config, shown by
 * --check-config and logged when the watcher starts or reloads. */
__attribute__((format(printf, 3, 4))) static void warn(ParseState* st, int line, const char* fmt, ...) {
   char msg[768], full[900];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(msg, sizeof(msg), fmt, ap);
   va_end(ap);
   if (line > 0)
      Util_format(full, sizeof(full), "%s:%d: %s", st->file, line, msg);
   else
      Util_format(full, sizeof(full), "%s: %s", st->file, msg);
   WatchConfig* c = st->config;
   c->warnings = Util_xrealloc(c->warnings, (c->warningCount + 1) * sizeof(char*));
   c->warnings[c->warningCount++] = Util_xstrdup(full);
}

static void knownKeys(Section section, char* buf, size_t size) {
   size_t used = 0;
   buf[0] = '\0';
   for (size_t i = 0; i < KEY_COUNT && used < size; i++) {
      if (keys[i].section != section)
         continue;
      int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", keys[i].name);
      if (n < 0)
         break;
      used += (size_t)n;
   }
}

/* ---- sections and keys */

bool WatchConfig_key(size_t i, WatchConfigKey* out) {
   if (i >= KEY_COUNT)
      return false;
   const ConfigKey* k = &keys[i];
   *out = (WatchConfigKey){
      .name = k->name, .service = k->section == SECTION_SERVICE, .def = k->def, .expected = k->expected
   };
   return true;
}

/* Every [global] row's default, read by the row's own parser. */
static void setDefaults(WatchConfig* c) {
   memset(c, 0, sizeof(*c));
   ParseState st = { .config = c, .section = SECTION_GLOBAL };
   for (size_t i = 0; i < KEY_COUNT; i++) {
      const ConfigKey* k = &keys[i];
      if (k->section != SECTION_GLOBAL || !k->def)
         continue;
      void* field = (char*)c + k->offset;
      bool ok = parserOf(k)(&st, k->def, field) == 0 && checkRange(&st, k, field) == 0;
      assert(ok && "a row's default passes its own parser and range");
      (void)ok;
   }
}

static void openSection(ParseState* st, const char* name) {
   st->service = NULL;
   if (strcmp(name, "global") == 0) {
      st->section = SECTION_GLOBAL;
      return;
   }
   if (strcmp(name, "service") == 0) {
      st->section = SECTION_UNKNOWN;
      fail(st, st->line, "[service] needs a name; expected [service NAME]");
      return;
   }
   if (strncmp(name, "service", 7) != 0 || (name[7] != ' ' && name[7] != '\t')) {
      st->section = SECTION_UNKNOWN;
      fail(st, st->line, "unknown section [%s]; expected [global] or [service NAME]", name);
      return;
   }
   const char* sname = name + 8;
   while (*sname == ' ' || *sname == '\t')
      sname++;
   if (*sname == '\0') {
      st->section = SECTION_UNKNOWN;
      fail(st, st->line, "[service] needs a name; expected [service NAME]");
      return;
   }
   WatchConfig* c = st->config;
   for (size_t i = 0; i < c->serviceCount; i++) {
      if (strcmp(c->services[i].name, sname) == 0) {
         st->section = SECTION_UNKNOWN;
         fail(st, st->line, "[service %s] is defined twice (first at line %d); expected unique service names", sname,
              c->services[i].line);
         return;
      }
   }
   c->services = Util_xrealloc(c->services, (c->serviceCount + 1) * sizeof(WatchService));
   WatchService* s = &c->services[c->serviceCount++];
   memset(s, 0, sizeof(*s));
   s->name = Util_xstrdup(sname);
   s->line = st->line;
   Util_growArray((void**)&st->seen, &st->seenCap, c->serviceCount, sizeof(uint64_t));
   st->seen[c->serviceCount] = 0;
   st->section = SECTION_SERVICE;
   st->service = s;
}

static const char* sectionLabel(const ParseState* st, char* buf, size_t size) {
   if (st->section == SECTION_SERVICE)
      Util_format(buf, size, "[service %s]", st->service->name);
   else
      Util_format(buf, size, "[global]");
   return buf;
}

static int onKey(void* user, const char* section, const char* name, const char* value) {
   (void)section; /* sections are tracked by the line reader, which sees empty ones too */
   ParseState* st = user;
   if (st->failed || st->section == SECTION_UNKNOWN)
      return 1;
   if (st->section == SECTION_NONE) {
      fail(st, st->line, "'%s' before any section; expected [global] or [service NAME] first", name);
      return 1;
   }
   char label[300];
   sectionLabel(st, label, sizeof(label));
   for (size_t i = 0; i < KEY_COUNT; i++) {
      const ConfigKey* k = &keys[i];
      if (k->section != st->section || strcmp(k->name, name) != 0)
         continue;
      size_t slot = st->section == SECTION_SERVICE ? (size_t)(st->service - st->config->services) + 1 : 0;
      if (st->seen[slot] & (1ULL << i)) {
         fail(st, st->line, "%s '%s' is given twice; expected each key once per section", label, name);
         return 1;
      }
      st->seen[slot] |= 1ULL << i;
      char* base = st->section == SECTION_SERVICE ? (char*)st->service : (char*)st->config;
      st->detail[0] = '\0';
      if (parserOf(k)(st, value, base + k->offset) < 0 || checkRange(st, k, base + k->offset) < 0) {
         if (st->detail[0])
            fail(st, st->line, "%s %s = '%s': %s", label, name, value, st->detail);
         else
            fail(st, st->line, "%s %s = '%s': expected %s", label, name, value, k->expected);
      }
      return 1;
   }
   char known[1024];
   knownKeys(st->section, known, sizeof(known));
   fail(st, st->line, "unknown key '%s' in %s; expected one of: %s", name, label, known);
   return 1;
}

/* fgets-style reader for inih that counts lines and notices section headers
 * (inih does not report empty sections to the handler). */
static char* readLine(char* str, int num, void* stream) {
   ParseState* st = stream;
   if (!fgets(str, num, st->in))
      return NULL;
   st->line++;
   size_t len = strlen(str);
   if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(st->in)) {
      fail(st, st->line, "line longer than %d characters; expected shorter lines", num - 2);
      int c;
      while ((c = fgetc(st->in)) != EOF && c != '\n')
         ;
   }
   const char* p = str;
   while (*p == ' ' || *p == '\t')
      p++;
   const char* close = *p == '[' ? strchr(p, ']') : NULL;
   if (close && !st->failed) {
      char name[256];
      Util_format(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
      openSection(st, name);
   }
   return str;
}

/* A secret others may read: a warning, the file still works. */
static void warnReadable(ParseState* st, const SecretFile* f, const char* key) {
   struct stat sb;
   if (f->path && stat(f->path, &sb) == 0 && (sb.st_mode & 077))
      warn(st, 0, "%s %s can be read by other users (mode %04o); expected mode 0600 or 0400", key, f->path,
           (unsigned)(sb.st_mode & 07777));
}

static bool loopbackAddress(const char* text) {
   HttpAddress a;
   char why[256];
   return HttpServer_parseAddress(text, &a, why, sizeof(why)) == 0 && a.loopback;
}

/* The listeners' keys go together; an alert receiver others can reach needs a token. */
static void validateListeners(ParseState* st) {
   WatchConfig* c = st->config;
   if ((c->tlsCert.path != NULL) != (c->tlsKey.path != NULL))
      fail(st, 0, "tls_cert_file and tls_key_file go together; expected both or neither in [global]");
   if (c->tlsCert.path && !c->metricsListen && !c->alertListen)
      fail(st, 0, "tls_cert_file is set but neither metrics_listen nor alert_listen; expected one of them");
   if (c->metricsToken.path && !c->metricsListen)
      fail(st, 0, "metrics_token_file is set but metrics_listen is not; expected metrics_listen = ADDR:PORT");
   if (c->alertToken.path && !c->alertListen)
      fail(st, 0, "alert_token_file is set but alert_listen is not; expected alert_listen = ADDR:PORT");
   if (c->alertListen && !c->alertToken.path && !loopbackAddress(c->alertListen))
      fail(st, 0,
           "alert_listen = %s is reachable from other hosts without a token: anyone there could make stacktop stop "
           "the services for dumps; expected alert_token_file (or a 127.0.0.1 address)",
           c->alertListen);
   if (c->metricsListen && !c->metricsToken.path && !loopbackAddress(c->metricsListen))
      warn(st, 0,
           "metrics_listen = %s is reachable from other hosts without a token: they can read the service names and "
           "figures; consider metrics_token_file or a firewall",
           c->metricsListen);
   warnReadable(st, &c->metricsToken, "metrics_token_file");
   warnReadable(st, &c->alertToken, "alert_token_file");
   warnReadable(st, &c->tlsKey, "tls_key_file");
}

/* Cross-key checks once the whole file is read. */
static void validate(ParseState* st) {
   WatchConfig* c = st->config;
   bool mails = WatchConfig_mails(c);
   if (mails && !c->smtpUrl)
      fail(st, st->mailToLine,
           "mail_to is set but smtp_url is missing; expected e.g. smtp_url = smtp://127.0.0.1:25 in [global]");
   if (mails && !c->mailFrom)
      fail(st, st->mailToLine,
           "mail_to is set but mail_from is missing; expected e.g. mail_from = stacktop@host.example.com in [global]");
   if ((c->smtpUser != NULL) != (c->smtpPasswordFile != NULL))
      fail(st, 0, "smtp_user and smtp_password_file go together; expected both or neither in [global]");
   if (c->pprofSeconds != floor(c->pprofSeconds) || c->pprofSeconds < 1)
      fail(st, 0, "pprof_seconds = %g: expected a whole number of seconds", c->pprofSeconds);
   validateListeners(st);
   for (size_t i = 0; i < c->serviceCount; i++) {
      const WatchService* s = &c->services[i];
      if (!s->hasMatch) {
         fail(st, s->line, "[service %s] has no 'match' key; expected e.g. match = comm:nginx", s->name);
         return;
      }
      if (Matcher_othersCanMatch(&s->match)) {
         char m[300];
         Matcher_describe(&s->match, m, sizeof(m));
         warn(st, s->matchLine,
              "[service %s] match = %s with user = any: any local user can start a process that matches, trigger "
              "a bundle (their process stopped, dumped and mailed) and use up the cooldown and the hourly cap "
              "before the real incident; expected the service's users, e.g. user = root",
              s->name, m);
      }
      /* Exported as metrics or captured when an alert asks: rules are then optional. */
      bool any = WatchConfig_exportsMetrics(c) || c->alertListen;
      for (int r = 0; r < RULE_KIND_COUNT; r++)
         any = any || s->rules[r].enabled;
      if (!any)
         fail(st, s->line, "[service %s] has no rule; expected at least one of %s", s->name, Rule_names());
      for (int g = 0; g < RULE_KIND_COUNT; g++) {
         const RuleSpec* spec = &s->rules[g];
         if (!Rule_isGrowth((RuleKind)g) || !spec->enabled)
            continue;
         if (spec->windowS < 3 * c->intervalS)
            fail(st, s->line, "[service %s] %s: the window must span at least three intervals (interval is %gs)",
                 s->name, Rule_name((RuleKind)g), c->intervalS);
         else if (spec->windowS > HISTORY_HORIZON_S)
            fail(st, s->line, "[service %s] %s: the window can be at most 3 days (the history kept per process)",
                 s->name, Rule_name((RuleKind)g));
      }
   }
   if (c->serviceCount == 0 && !c->systemMem.enabled)
      fail(st, 0,
           "nothing to watch; expected at least one [service NAME] section or system_mem_available_below in [global]");
}

static int loadStream(WatchConfig* this, FILE* in, const char* name, char* err, size_t errSize) {
   setDefaults(this);
   this->path = Util_xstrdup(name);
   ParseState st = { .config = this, .file = name, .in = in, .err = err, .errSize = errSize };
   Util_growArray((void**)&st.seen, &st.seenCap, 1, sizeof(uint64_t));
   st.seen[0] = 0;
   int rc = ini_parse_stream(readLine, &st, onKey, &st);
   if (rc > 0)
      fail(&st, rc,
           "cannot parse this line; expected 'key = value', '[global]' or '[service NAME]' "
           "(comments start with ; or #)");
   else if (rc < 0)
      fail(&st, 0, "cannot parse the file (out of memory)");
   if (!st.failed)
      validate(&st);
   free(st.seen);
   if (st.failed) {
      WatchConfig_free(this);
      return -1;
   }
   if (!this->hostname) {
      char host[256] = "localhost";
      if (gethostname(host, sizeof(host) - 1) < 0)
         Util_format(host, sizeof(host), "localhost");
      host[sizeof(host) - 1] = '\0';
      this->hostname = Util_xstrdup(host);
   }
   return 0;
}

int WatchConfig_load(WatchConfig* this, const char* path, char* err, size_t errSize) {
   FILE* in = fopen(path, "re");
   if (!in) {
      int e = errno;
      setDefaults(this);
      Util_format(err, errSize, "%s: cannot open: %s; expected a readable config file (see stacktop.conf(5))", path,
                  strerror(e));
      WatchConfig_free(this);
      return -1;
   }
   int rc = loadStream(this, in, path, err, errSize);
   fclose(in);
   return rc;
}

int WatchConfig_loadString(WatchConfig* this, const char* text, const char* name, char* err, size_t errSize) {
   FILE* in = fmemopen((void*)text, strlen(text), "r");
   if (!in) {
      Util_format(err, errSize, "%s: cannot read the text: %s", name, strerror(errno));
      return -1;
   }
   int rc = loadStream(this, in, name, err, errSize);
   fclose(in);
   return rc;
}

static void freeAddresses(AddressList* l) {
   for (size_t i = 0; i < l->count; i++)
      free(l->items[i]);
   free(l->items);
   l->items = NULL;
   l->count = 0;
}

void WatchConfig_free(WatchConfig* this) {
   for (size_t i = 0; i < this->serviceCount; i++) {
      WatchService* s = &this->services[i];
      free(s->name);
      Matcher_free(&s->match);
      free(s->pprofUrl);
      free(s->exec);
      freeAddresses(&s->mailTo);
   }
   free(this->services);
   freeAddresses(&this->mailTo);
   for (size_t i = 0; i < this->warningCount; i++)
      free(this->warnings[i]);
   free(this->warnings);
   this->warnings = NULL;
   this->warningCount = 0;
   char** strings[] = { &this->path,
                        &this->bundleDir,
                        &this->mailFrom,
                        &this->smtpUrl,
                        &this->smtpUser,
                        &this->smtpPasswordFile,
                        &this->smtpPassword,
                        &this->hostname,
                        &this->metricsListen,
                        &this->metricsTextfile,
                        &this->alertListen,
                        &this->alertServiceLabel,
                        &this->alertHostLabel,
                        &this->metricsToken.path,
                        &this->metricsToken.text,
                        &this->alertToken.path,
                        &this->alertToken.text,
                        &this->tlsCert.path,
                        &this->tlsCert.text,
                        &this->tlsKey.path,
                        &this->tlsKey.text };
   for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
      free(*strings[i]);
      *strings[i] = NULL;
   }
   this->services = NULL;
   this->serviceCount = 0;
}

/* Unset optional keys are left out, so the printout is itself a valid config. */
static bool keyIsSet(const ConfigKey* k, const void* field) {
   switch (k->kind) {
   case CONFIG_LIST: return ((const AddressList*)field)->count > 0;
   case CONFIG_TEXT: return *(const char* const*)field != NULL;
   case CONFIG_RULE: return ((const RuleSpec*)field)->enabled;
   case CONFIG_SECRET: return ((const SecretFile*)field)->path != NULL;
   case CONFIG_VALUE:
   case CONFIG_DURATION:
   case CONFIG_SIZE:
   case CONFIG_COUNT: break;
   }
   return true;
}

static void printSection(Section section, const void* base, FILE* out) {
   for (size_t i = 0; i < KEY_COUNT; i++) {
      const ConfigKey* k = &keys[i];
      if (k->section != section)
         continue;
      const void* field = (const char*)base + k->offset;
      if (!keyIsSet(k, field))
         continue;
      fprintf(out, "%s = ", k->name);
      printerOf(k)(field, out);
      fputc('\n', out);
   }
}

void WatchConfig_print(const WatchConfig* this, FILE* out) {
   fprintf(out, "# %s: OK, %zu service%s%s\n", this->path, this->serviceCount, this->serviceCount == 1 ? "" : "s",
           WatchConfig_mails(this) ? "" : "; no mail_to: bundles are not mailed");
   for (size_t i = 0; i < this->warningCount; i++)
      fprintf(out, "# warning: %s\n", this->warnings[i]);
   fputs("[global]\n", out);
   printSection(SECTION_GLOBAL, this, out);
   for (size_t i = 0; i < this->serviceCount; i++) {
      fprintf(out, "\n[service %s]\n", this->services[i].name);
      printSection(SECTION_SERVICE, &this->services[i], out);
   }
}

void WatchConfig_formatRule(RuleKind kind, const RuleSpec* spec, char* buf, size_t size) {
   Util_format(buf, size, "?");
   for (size_t i = 0; i < KEY_COUNT; i++) {
      if (strcmp(keys[i].name, Rule_name(kind)) != 0)
         continue;
      FILE* out = fmemopen(buf, size, "w");
      if (!out)
         return;
      keys[i].print(spec, out);
      fclose(out);
      buf[size - 1] = '\0';
      return;
   }
}

unsigned WatchConfig_samplesNeeded(const WatchConfig* this) {
   unsigned need = 2;
   for (size_t i = 0; i < this->serviceCount; i++) {
      for (int r = 0; r < RULE_KIND_COUNT; r++) {
         const RuleSpec* spec = &this->services[i].rules[r];
         if (!spec->enabled)
            continue;
         unsigned n = Rules_samplesNeeded((RuleKind)r, spec, this->intervalS);
         need = n > need ? n : need;
      }
   }
   if (this->systemMem.enabled) {
      unsigned n = Rules_samplesNeeded(RULE_SYSTEM_MEM_BELOW, &this->systemMem, this->intervalS);
      need = n > need ? n : need;
   }
   return need;
}

size_t WatchConfig_historyCapacity(const WatchConfig* this) {
   /* History answers a window from minute buckets once 12 of them fit in it
    * (11 minutes and up): raw samples are needed only below that. */
   const double rawSpanS = 12 * 60;
   double longest = 0;
   for (size_t i = 0; i < this->serviceCount; i++) {
      for (int g = 0; g < RULE_KIND_COUNT; g++) {
         const RuleSpec* spec = &this->services[i].rules[g];
         if (Rule_isGrowth((RuleKind)g) && spec->enabled && spec->windowS > longest)
            longest = spec->windowS;
      }
   }
   double span = longest < rawSpanS ? longest : rawSpanS;
   double n = ceil(span / this->intervalS) + 3;
   return n > HISTORY_DEFAULT_CAPACITY ? (size_t)n : HISTORY_DEFAULT_CAPACITY;
}

bool WatchConfig_mails(const WatchConfig* this) {
   if (this->mailTo.count > 0)
      return true;
   for (size_t i = 0; i < this->serviceCount; i++) {
      if (this->services[i].mailTo.count > 0)
         return true;
   }
   return false;
}

static void addUnique(const char** out, size_t* n, const char* addr) {
   for (size_t i = 0; i < *n; i++) {
      if (strcasecmp(out[i], addr) == 0)
         return;
   }
   out[(*n)++] = addr;
}

const char** WatchConfig_recipients(const WatchConfig* this, const WatchService* service, size_t* count) {
   size_t max = this->mailTo.count + (service ? service->mailTo.count : 0);
   const char** out = Util_xcalloc(max ? max : 1, sizeof(char*));
   *count = 0;
   for (size_t i = 0; i < this->mailTo.count; i++)
      addUnique(out, count, this->mailTo.items[i]);
   for (size_t i = 0; service && i < service->mailTo.count; i++)
      addUnique(out, count, service->mailTo.items[i]);
   return out;
}

bool WatchConfig_exportsMetrics(const WatchConfig* this) {
   return this->metricsListen || this->metricsTextfile;
}

const WatchService* WatchConfig_service(const WatchConfig* this, const char* name) {
   for (size_t i = 0; name && i < this->serviceCount; i++) {
      if (strcmp(this->services[i].name, name) == 0)
         return &this->services[i];
   }
   return NULL;
}
