/* Sizes, durations, percentages and rates of the watch config. */
#include "stacktop/Units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct UnitFactor_ {
   const char* suffix;
   double factor;
} UnitFactor;

/* Longest suffixes first only matters for prefixes of each other; matching is
 * on the whole remaining text, so order is free. */
static const UnitFactor sizeUnits[] = {
   { .suffix = "", .factor = 1.0 },
   { .suffix = "B", .factor = 1.0 },
   { .suffix = "KiB", .factor = 1024.0 },
   { .suffix = "MiB", .factor = 1024.0 * 1024 },
   { .suffix = "GiB", .factor = 1024.0 * 1024 * 1024 },
   { .suffix = "TiB", .factor = 1024.0 * 1024 * 1024 * 1024 },
};

static const UnitFactor durationUnits[] = {
   { .suffix = "", .factor = 1.0 },   { .suffix = "ms", .factor = 0.001 }, { .suffix = "s", .factor = 1.0 },
   { .suffix = "m", .factor = 60.0 }, { .suffix = "min", .factor = 60.0 }, { .suffix = "h", .factor = 3600.0 },
};

/* Per-minute factors of "/unit". */
static const UnitFactor rateUnits[] = {
   { .suffix = "s", .factor = 60.0 },
   { .suffix = "m", .factor = 1.0 },
   { .suffix = "min", .factor = 1.0 },
   { .suffix = "h", .factor = 1.0 / 60.0 },
};

static const char* skipBlanks(const char* s) {
   while (*s == ' ' || *s == '\t')
      s++;
   return s;
}

/* Compares [s, end) after trimming trailing blanks with suffix. */
static bool suffixIs(const char* s, size_t len, const char* suffix) {
   while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
      len--;
   return strlen(suffix) == len && strncmp(s, suffix, len) == 0;
}

static int lookupFactor(const UnitFactor* table, size_t n, const char* s, size_t len, double* factor) {
   for (size_t i = 0; i < n; i++) {
      if (suffixIs(s, len, table[i].suffix)) {
         *factor = table[i].factor;
         return 0;
      }
   }
   return -1;
}

/* A non-negative finite decimal number (no sign, no hex, no exponent) at the
 * start of s; *end is set past it. */
static int parseNumber(const char* s, double* value, const char** end) {
   s = skipBlanks(s);
   if (!isdigit((unsigned char)s[0]) && !(s[0] == '.' && isdigit((unsigned char)s[1])))
      return -1;
   const char* p = s;
   while (isdigit((unsigned char)*p))
      p++;
   if (*p == '.') {
      p++;
      while (isdigit((unsigned char)*p))
         p++;
   }
   char* stop;
   errno = 0;
   double v = strtod(s, &stop);
   if (errno != 0 || stop != p || !isfinite(v))
      return -1;
   *value = v;
   *end = skipBlanks(p);
   return 0;
}

/* Number followed by one unit from table, covering [s, s+len). */
static int parseScaled(const char* s, size_t len, const UnitFactor* table, size_t n, double* out) {
   const char* end;
   double v, factor;
   if (parseNumber(s, &v, &end) < 0 || end > s + len)
      return -1;
   if (lookupFactor(table, n, end, (size_t)(s + len - end), &factor) < 0)
      return -1;
   *out = v * factor;
   return 0;
}

int Units_parseSize(const char* s, unsigned long long* bytes) {
   double v;
   if (parseScaled(s, strlen(s), sizeUnits, sizeof(sizeUnits) / sizeof(sizeUnits[0]), &v) < 0)
      return -1;
   if (v >= 18446744073709551615.0)
      return -1;
   *bytes = (unsigned long long)llround(v);
   return 0;
}

int Units_parseDuration(const char* s, double* seconds) {
   double v;
   if (parseScaled(s, strlen(s), durationUnits, sizeof(durationUnits) / sizeof(durationUnits[0]), &v) < 0)
      return -1;
   if (v <= 0)
      return -1;
   *seconds = v;
   return 0;
}

/* "N%" covering [s, s+len). */
static int parsePercentSpan(const char* s, size_t len, double max, double* pct) {
   const char* end;
   double v;
   if (parseNumber(s, &v, &end) < 0 || end >= s + len || *end != '%')
      return -1;
   const char* rest = skipBlanks(end + 1);
   if (rest < s + len && !suffixIs(rest, (size_t)(s + len - rest), ""))
      return -1;
   if (v > max)
      return -1;
   *pct = v;
   return 0;
}

int Units_parsePercent(const char* s, double max, double* pct) {
   return parsePercentSpan(s, strlen(s), max, pct);
}

int Units_parseCount(const char* s, unsigned long* count) {
   const char* p = skipBlanks(s);
   if (!isdigit((unsigned char)*p))
      return -1;
   char* end;
   errno = 0;
   unsigned long v = strtoul(p, &end, 10);
   if (errno != 0 || !suffixIs(end, strlen(end), ""))
      return -1;
   *count = v;
   return 0;
}

/* Finds the word `word` delimited by blanks; returns its start or NULL. */
static const char* findWord(const char* s, const char* word) {
   size_t n = strlen(word);
   for (const char* p = strstr(s, word); p; p = strstr(p + 1, word)) {
      bool before = p == s || p[-1] == ' ' || p[-1] == '\t';
      bool after = p[n] == ' ' || p[n] == '\t';
      if (before && after)
         return p;
   }
   return NULL;
}

int Units_parsePercentFor(const char* s, double* pct, unsigned* forSamples) {
   const char* word = findWord(s, "for");
   if (!word) {
      *forSamples = 1;
      return parsePercentSpan(s, strlen(s), 1e6, pct);
   }
   unsigned long n;
   if (parsePercentSpan(s, (size_t)(word - s), 1e6, pct) < 0 || Units_parseCount(word + 3, &n) < 0)
      return -1;
   if (n < 1 || n > 100000)
      return -1;
   *forSamples = (unsigned)n;
   return 0;
}

int Units_parseCountFor(const char* s, unsigned long* count, unsigned* forSamples) {
   const char* word = findWord(s, "for");
   *forSamples = 1;
   if (!word)
      return Units_parseCount(s, count) < 0 || *count == 0 ? -1 : 0;
   char head[32];
   size_t len = (size_t)(word - s);
   while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
      len--;
   unsigned long n;
   if (len == 0 || len >= sizeof(head))
      return -1;
   memcpy(head, s, len);
   head[len] = '\0';
   if (Units_parseCount(head, count) < 0 || *count == 0 || Units_parseCount(word + 3, &n) < 0 || n < 1 || n > 100000)
      return -1;
   *forSamples = (unsigned)n;
   return 0;
}

int Units_parseRate(const char* s, bool sized, double* perMinute, double* windowS) {
   const char* over = findWord(s, "over");
   const char* slash = strchr(s, '/');
   if (!over || !slash || slash > over)
      return -1;
   double amount;
   if (sized) {
      if (parseScaled(s, (size_t)(slash - s), sizeUnits, sizeof(sizeUnits) / sizeof(sizeUnits[0]), &amount) < 0)
         return -1;
      amount /= 1024.0; /* KiB */
   } else {
      const char* end;
      if (parseNumber(s, &amount, &end) < 0 || end != slash)
         return -1;
   }
   double factor;
   const char* unit = skipBlanks(slash + 1);
   if (lookupFactor(rateUnits, sizeof(rateUnits) / sizeof(rateUnits[0]), unit, (size_t)(over - unit), &factor) < 0)
      return -1;
   if (Units_parseDuration(over + 4, windowS) < 0 || amount <= 0)
      return -1;
   *perMinute = amount * factor;
   return 0;
}
