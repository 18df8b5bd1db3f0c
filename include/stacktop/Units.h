#ifndef STACKTOP_UNITS_H
#define STACKTOP_UNITS_H
/* Parsing of the quantities a watch config is written in: sizes (KiB, MiB,
 * GiB, TiB or plain bytes), durations (ms, s, m, h), percentages, thresholds
 * held for N samples ("90% for 3") and growth rates over a window
 * ("50MiB/h over 30m", "100/h over 30m"). Pure functions: whole-string
 * parses, surrounding blanks allowed, anything else rejected with -1. */
#include <stdbool.h>

/* "2GiB", "512 MiB", "4096" (bytes). Returns 0 or -1. */
int Units_parseSize(const char* s, unsigned long long* bytes);
/* "5s", "200ms", "15m", "1h", "1.5s"; a bare number means seconds. > 0 only. */
int Units_parseDuration(const char* s, double* seconds);
/* "80%" (the % sign is required), 0..max. */
int Units_parsePercent(const char* s, double max, double* pct);
/* A whole non-negative decimal count ("500"). */
int Units_parseCount(const char* s, unsigned long* count);
/* "10000" or "10000 for 3" (count >= 1; for >= 1, default 1). */
int Units_parseCountFor(const char* s, unsigned long* count, unsigned* forSamples);
/* "90%" or "90% for 3" (for >= 1; default 1); % of one core may exceed 100. */
int Units_parsePercentFor(const char* s, double* pct, unsigned* forSamples);
/* A growth rate and its window. With `sized` the amount is a size
 * ("50MiB/h over 30m") and *perMinute is in KiB per minute; otherwise a count
 * ("100/h over 30m") per minute. Rate units: /s, /m (or /min), /h. */
int Units_parseRate(const char* s, bool sized, double* perMinute, double* windowS);

#endif
