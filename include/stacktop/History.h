#ifndef STACKTOP_HISTORY_H
#define STACKTOP_HISTORY_H
/* Per-process history at three resolutions, in bounded memory:
 *  - the last `sampleCapacity` samples as taken (HISTORY_DEFAULT_CAPACITY),
 *  - one bucket per minute for the last 3 hours (HISTORY_MINUTE_BUCKETS),
 *  - one bucket per 10 minutes for the last 3 days (HISTORY_TENMIN_BUCKETS).
 * A bucket keeps per series the minimum and maximum (RES, threads,
 * goroutines) and the mean (all series). Storage grows on demand, so a
 * process seen for a minute costs a few hundred bytes; the most any process
 * costs is History_maxBytes(sampleCapacity).
 *
 * Growth (RGROW, GGROW, the watcher's growth rules) is measured on the lower
 * envelope: the window is cut into slices, each slice contributes its
 * minimum, and the slope is Siegel's repeated median of those minima (per
 * point the median slope to the others, then the median of those). So the sawtooth of a garbage-collected heap shows
 * the growth of its floor, and a one-off allocation at start-up (one step at
 * the window's edge) does not read as a leak. No growth is reported until the
 * history spans the minimum time the caller asks for. */
#include <stdbool.h>
#include <stddef.h>

typedef enum HistorySeries_ {
   HISTORY_CPU, /* share of one core, 100 = one busy core */
   HISTORY_RES, /* KiB */
   HISTORY_THREADS,
   HISTORY_GOROUTINES, /* Go processes only; unknown (-1) otherwise */
   HISTORY_SERIES_COUNT,
} HistorySeries;

typedef struct HistorySample_ {
   double time;     /* monotonic seconds */
   double wallTime; /* CLOCK_REALTIME seconds, for reports */
   double cpuPct;
   unsigned long resKiB;
   unsigned long threads;
   long goroutines; /* -1: unknown (not a Go process, or not readable) */
} HistorySample;

/* One point of one series at some resolution. */
typedef struct HistoryPoint_ {
   double time;           /* monotonic seconds: the sample's, or the bucket's first sample's */
   double min, max, mean; /* all equal for a raw sample */
} HistoryPoint;

typedef struct History_ History;

#define HISTORY_DEFAULT_CAPACITY 120
#define HISTORY_MINUTE_BUCKETS 180 /* 3 hours */
#define HISTORY_TENMIN_BUCKETS 432 /* 3 days */
/* The longest window any growth question can be answered over. */
#define HISTORY_HORIZON_S (HISTORY_TENMIN_BUCKETS * 600.0)

/* sampleCapacity 0: HISTORY_DEFAULT_CAPACITY. Owned by the caller. */
History* History_new(size_t sampleCapacity);
void History_free(History* this);
/* Samples must come in time order; one earlier than the newest is ignored. */
void History_push(History* this, const HistorySample* sample);

/* Raw samples kept; i = 0 is the oldest, valid until the next push. */
size_t History_count(const History* this);
size_t History_capacity(const History* this);
const HistorySample* History_at(const History* this, size_t i);
const HistorySample* History_last(const History* this);
/* Seconds from the first sample ever pushed to the newest one. */
double History_span(const History* this);

/* The known points of `series` over the last spanS seconds (spanS <= 0: all
 * history), oldest first, from the finest resolution whose retention covers
 * the span (raw samples, else minute buckets, else 10-minute buckets). Writes
 * the newest `max` of them and returns how many were written. */
size_t History_points(const History* this, HistorySeries series, double spanS, HistoryPoint* out, size_t max);

/* Growth of `series` per minute over the last windowS seconds (windowS <= 0
 * or beyond the history: all of it), measured on the lower envelope (see the
 * top). *ok is false, and 0 returned, until the history spans minSpanS
 * seconds and holds at least four known points. */
double History_growthPerMinute(const History* this, HistorySeries series, double windowS, double minSpanS, bool* ok);

/* Bytes this history holds now, and the most one can ever hold. */
size_t History_bytes(const History* this);
size_t History_maxBytes(size_t sampleCapacity);

#endif
