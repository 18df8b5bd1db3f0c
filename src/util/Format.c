/* Human-readable sizes, CPU times, uptimes and rates. */
#include "stacktop/Format.h"

#include <math.h>

#include "stacktop/Util.h"

/* One scale step of Format_kib: values below `limit` KiB use this suffix. */
typedef struct KibUnit_ {
   char suffix;
   double divisor;
} KibUnit;

static const KibUnit kibUnits[] = {
   { .suffix = 'K', .divisor = 1.0 },
   { .suffix = 'M', .divisor = 1024.0 },
   { .suffix = 'G', .divisor = 1024.0 * 1024.0 },
   { .suffix = 'T', .divisor = 1024.0 * 1024.0 * 1024.0 },
};
#define KIB_UNIT_COUNT (sizeof(kibUnits) / sizeof(kibUnits[0]))

int Format_kibMagnitude(unsigned long long kib) {
   int m = 0;
   while (m < (int)KIB_UNIT_COUNT - 1 && (double)kib >= kibUnits[m + 1].divisor)
      m++;
   return m;
}

void Format_kib(char* buf, size_t size, unsigned long long kib) {
   int m = Format_kibMagnitude(kib);
   char suffix = kibUnits[m].suffix;
   if (m == 0) {
      Util_format(buf, size, "%lluK", kib);
      return;
   }
   double v = (double)kib / kibUnits[m].divisor;
   /* Precision shrinks as the integer part grows so the text stays <= 6 chars;
    * G gets two decimals below 10 because a GiB step is a lot of memory. */
   int decimals = v >= 100 ? 0 : (v >= 10 || suffix != 'G') ? 1 : 2;
   if (m == (int)KIB_UNIT_COUNT - 1 && v >= 10000)
      decimals = 0; /* petabytes of KiB: wider than 6 chars, but still right */
   Util_format(buf, size, "%.*f%c", decimals, v, suffix);
}

void Format_cpuTime(char* buf, size_t size, double seconds) {
   if (!(seconds > 0))
      seconds = 0;
   unsigned long long hundredths = (unsigned long long)llround(seconds * 100.0);
   unsigned long long totalS = hundredths / 100;
   unsigned long long minutes = totalS / 60;
   if (minutes >= 100 * 60) {
      Util_format(buf, size, "%lluh:%02llu", minutes / 60, minutes % 60);
      return;
   }
   Util_format(buf, size, "%llu:%02llu.%02llu", minutes, totalS % 60, hundredths % 100);
}

void Format_uptime(char* buf, size_t size, double seconds) {
   if (!(seconds > 0))
      seconds = 0;
   unsigned long long s = (unsigned long long)seconds;
   unsigned long long days = s / 86400;
   unsigned hh = (unsigned)(s % 86400 / 3600), mm = (unsigned)(s % 3600 / 60), ss = (unsigned)(s % 60);
   if (days == 0) {
      Util_format(buf, size, "%02u:%02u:%02u", hh, mm, ss);
      return;
   }
   Util_format(buf, size, "%llu day%s, %02u:%02u:%02u", days, days == 1 ? "" : "s", hh, mm, ss);
}

void Format_rate(char* buf, size_t size, double kibPerMin) {
   if (!isfinite(kibPerMin) || fabs(kibPerMin) < 0.5) {
      Util_format(buf, size, "0");
      return;
   }
   char mag[16];
   Format_kib(mag, sizeof(mag), (unsigned long long)llround(fabs(kibPerMin)));
   Util_format(buf, size, "%c%s", kibPerMin < 0 ? '-' : '+', mag);
}
