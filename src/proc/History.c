/* Multi-resolution history and lower-envelope growth: see History.h. */
#include "stacktop/History.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* Storage grows on demand up to each ring's capacity: most processes live
 * short, and a monitor tracking thousands should not hold days of buckets
 * for each from the start. */
#define INITIAL_ALLOC 8
#define MINUTE_S 60.0
#define TENMIN_S 600.0
/* Slices of a growth window: each gives one minimum to the repeated-median fit. */
#define GROWTH_SLICES 12
#define MIN_GROWTH_POINTS 4

/* Aggregate of the samples that fell into one time bucket. */
typedef struct Bucket_ {
   double time; /* first sample's time */
   float min[HISTORY_SERIES_COUNT];
   float max[HISTORY_SERIES_COUNT];
   float sum[HISTORY_SERIES_COUNT];
   uint16_t known[HISTORY_SERIES_COUNT]; /* samples with a known value */
} Bucket;

/* A ring of elements of one type, grown on demand up to capacity. */
typedef struct Ring_ {
   void* items;
   size_t elemSize;
   size_t allocated, capacity;
   size_t start, count;
   size_t evicted; /* elements dropped off the old end so far */
} Ring;

/* A resolution tier fed by every sample: the open bucket plus closed ones. */
typedef struct Tier_ {
   double width; /* seconds per bucket */
   Ring closed;
   Bucket open;
   bool hasOpen;
} Tier;

struct History_ {
   Ring samples;
   Tier minutes, tenMinutes;
   double firstTime;
   bool any;
};

/* ---- rings ------------------------------------------------------------ */

static void ringInit(Ring* r, size_t elemSize, size_t capacity) {
   *r = (Ring){ .elemSize = elemSize, .capacity = capacity };
}

static void* ringSlot(const Ring* r, size_t physical) {
   return (char*)r->items + physical * r->elemSize;
}

static void* ringAt(const Ring* r, size_t i) {
   return i < r->count ? ringSlot(r, (r->start + i) % r->capacity) : NULL;
}

static void ringPush(Ring* r, const void* item) {
   if (r->capacity == 0) /* a ring of no capacity keeps nothing */
      return;
   if (r->count < r->capacity) {
      /* Not full yet: start is 0 and items are stored in order. */
      if (r->count == r->allocated) {
         size_t grown = r->allocated ? r->allocated * 2 : INITIAL_ALLOC;
         r->allocated = grown < r->capacity ? grown : r->capacity;
         r->items = Util_xrealloc(r->items, r->allocated * r->elemSize);
      }
      memcpy(ringSlot(r, r->count++), item, r->elemSize);
      return;
   }
   memcpy(ringSlot(r, r->start), item, r->elemSize);
   r->start = (r->start + 1) % r->capacity;
   r->evicted++;
}

/* ---- samples and buckets ------------------------------------------------ */

static bool sampleValue(const HistorySample* s, HistorySeries series, double* v) {
   switch (series) {
   case HISTORY_CPU: *v = s->cpuPct; return true;
   case HISTORY_RES: *v = (double)s->resKiB; return true;
   case HISTORY_THREADS: *v = (double)s->threads; return true;
   case HISTORY_GOROUTINES: *v = (double)s->goroutines; return s->goroutines >= 0;
   case HISTORY_SERIES_COUNT: break;
   }
   return false;
}

static void bucketAdd(Bucket* b, const HistorySample* s) {
   for (int k = 0; k < HISTORY_SERIES_COUNT; k++) {
      double v;
      if (!sampleValue(s, (HistorySeries)k, &v))
         continue;
      float f = (float)v;
      if (b->known[k] == 0 || f < b->min[k])
         b->min[k] = f;
      if (b->known[k] == 0 || f > b->max[k])
         b->max[k] = f;
      b->sum[k] += f;
      if (b->known[k] < UINT16_MAX)
         b->known[k]++;
   }
}

/* Buckets are aligned to the first sample ever seen, so a bucket boundary
 * never depends on when a query happens. */
static void tierAdd(Tier* t, double firstTime, const HistorySample* s) {
   double index = floor((s->time - firstTime) / t->width);
   if (t->hasOpen && floor((t->open.time - firstTime) / t->width) != index) {
      ringPush(&t->closed, &t->open);
      t->hasOpen = false;
   }
   if (!t->hasOpen) {
      t->open = (Bucket){ .time = s->time };
      t->hasOpen = true;
   }
   bucketAdd(&t->open, s);
}

static void tierInit(Tier* t, double width, size_t capacity) {
   *t = (Tier){ .width = width };
   ringInit(&t->closed, sizeof(Bucket), capacity);
}

History* History_new(size_t sampleCapacity) {
   History* this = Util_xcalloc(1, sizeof(History));
   ringInit(&this->samples, sizeof(HistorySample), sampleCapacity ? sampleCapacity : HISTORY_DEFAULT_CAPACITY);
   tierInit(&this->minutes, MINUTE_S, HISTORY_MINUTE_BUCKETS);
   tierInit(&this->tenMinutes, TENMIN_S, HISTORY_TENMIN_BUCKETS);
   return this;
}

void History_free(History* this) {
   if (!this)
      return;
   free(this->samples.items);
   free(this->minutes.closed.items);
   free(this->tenMinutes.closed.items);
   free(this);
}

void History_push(History* this, const HistorySample* sample) {
   const HistorySample* last = History_last(this);
   if (last && sample->time < last->time)
      return;
   if (!this->any) {
      this->firstTime = sample->time;
      this->any = true;
   }
   ringPush(&this->samples, sample);
   tierAdd(&this->minutes, this->firstTime, sample);
   tierAdd(&this->tenMinutes, this->firstTime, sample);
}

size_t History_count(const History* this) {
   return this->samples.count;
}

size_t History_capacity(const History* this) {
   return this->samples.capacity;
}

const HistorySample* History_at(const History* this, size_t i) {
   return ringAt(&this->samples, i);
}

const HistorySample* History_last(const History* this) {
   return this->samples.count ? History_at(this, this->samples.count - 1) : NULL;
}

double History_span(const History* this) {
   const HistorySample* last = History_last(this);
   return last ? last->time - this->firstTime : 0.0;
}

/* ---- points --------------------------------------------------------------- */

/* The time of the oldest point a resolution still holds. */
static double rawOldest(const History* this) {
   return this->samples.evicted ? History_at(this, 0)->time : this->firstTime;
}

static double tierOldest(const History* this, const Tier* t) {
   if (t->closed.evicted)
      return ((const Bucket*)ringAt(&t->closed, 0))->time;
   return this->firstTime;
}

typedef enum Resolution_ { RES_RAW, RES_MINUTES, RES_TENMIN } Resolution;

static double resolutionOldest(const History* this, Resolution res) {
   switch (res) {
   case RES_RAW: return rawOldest(this);
   case RES_MINUTES: return tierOldest(this, &this->minutes);
   case RES_TENMIN: return tierOldest(this, &this->tenMinutes);
   }
   return this->firstTime;
}

/* Buckets of a tier between `from` and now, the open one included. */
static double tierPoints(const Tier* t, double from, double now) {
   return (now - from) / t->width + 1;
}

/* The finest resolution that reaches back to (nearly) `from`, where "nearly"
 * forgives the last tenth of the window; a coarser tier only when it has
 * enough buckets in the window to beat the finer one's shorter reach. */
static Resolution resolutionFor(const History* this, double from) {
   double now = History_last(this)->time;
   double slack = (now - from) / 10;
   if (rawOldest(this) <= from + slack)
      return RES_RAW;
   if (tierPoints(&this->minutes, from, now) < GROWTH_SLICES)
      return RES_RAW;
   if (tierOldest(this, &this->minutes) <= from + slack)
      return RES_MINUTES;
   if (tierPoints(&this->tenMinutes, from, now) < GROWTH_SLICES)
      return RES_MINUTES;
   return RES_TENMIN;
}

static bool bucketPoint(const Bucket* b, HistorySeries series, HistoryPoint* p) {
   if (b->known[series] == 0)
      return false;
   *p = (HistoryPoint){
      .time = b->time, .min = b->min[series], .max = b->max[series], .mean = b->sum[series] / b->known[series]
   };
   return true;
}

/* Calls back with every known point at or after `from`, oldest first. */
typedef void (*PointSink)(void* ctx, const HistoryPoint* p);

static void forEachPoint(const History* this, Resolution res, HistorySeries series, double from, PointSink sink,
                         void* ctx) {
   HistoryPoint p;
   if (res == RES_RAW) {
      for (size_t i = 0; i < this->samples.count; i++) {
         const HistorySample* s = History_at(this, i);
         double v;
         if (s->time < from || !sampleValue(s, series, &v))
            continue;
         p = (HistoryPoint){ .time = s->time, .min = v, .max = v, .mean = v };
         sink(ctx, &p);
      }
      return;
   }
   const Tier* t = res == RES_MINUTES ? &this->minutes : &this->tenMinutes;
   for (size_t i = 0; i < t->closed.count; i++) {
      const Bucket* b = ringAt(&t->closed, i);
      /* A bucket overlapping the window's start counts: its samples reach in. */
      if (b->time + t->width > from && bucketPoint(b, series, &p))
         sink(ctx, &p);
   }
   if (t->hasOpen && bucketPoint(&t->open, series, &p))
      sink(ctx, &p);
}

/* The window [from, newest] for a span (<= 0: everything). */
static double windowStart(const History* this, double spanS) {
   const HistorySample* last = History_last(this);
   double from = spanS > 0 ? last->time - spanS : this->firstTime;
   return from > this->firstTime ? from : this->firstTime;
}

typedef struct PointList_ {
   HistoryPoint* out;
   size_t max, written, seen;
} PointList;

/* Keeps the newest `max` points: a ring over out[], unrolled at the end. */
static void collectPoint(void* ctx, const HistoryPoint* p) {
   PointList* l = ctx;
   if (l->max == 0)
      return;
   l->out[l->seen % l->max] = *p;
   l->seen++;
   l->written = l->seen < l->max ? l->seen : l->max;
}

static void unrollNewest(PointList* l) {
   if (l->seen <= l->max)
      return;
   size_t shift = l->seen % l->max;
   HistoryPoint* copy = Util_xcalloc(l->max, sizeof(HistoryPoint));
   for (size_t i = 0; i < l->max; i++)
      copy[i] = l->out[(shift + i) % l->max];
   memcpy(l->out, copy, l->max * sizeof(HistoryPoint));
   free(copy);
}

size_t History_points(const History* this, HistorySeries series, double spanS, HistoryPoint* out, size_t max) {
   if (!History_last(this) || series >= HISTORY_SERIES_COUNT)
      return 0;
   double from = windowStart(this, spanS);
   PointList l = { .out = out, .max = max };
   forEachPoint(this, resolutionFor(this, from), series, from, collectPoint, &l);
   unrollNewest(&l);
   return l.written;
}

/* ---- growth --------------------------------------------------------------- */

/* Per slice of the window: its lowest point. */
typedef struct Slices_ {
   double from, width;
   HistoryPoint low[GROWTH_SLICES];
   bool used[GROWTH_SLICES];
} Slices;

static void slicePoint(void* ctx, const HistoryPoint* p) {
   Slices* s = ctx;
   long k = s->width > 0 ? (long)((p->time - s->from) / s->width) : 0;
   if (k < 0)
      k = 0;
   if (k >= GROWTH_SLICES)
      k = GROWTH_SLICES - 1;
   if (!s->used[k] || p->min < s->low[k].min)
      s->low[k] = *p;
   s->used[k] = true;
}

static int compareDouble(const void* a, const void* b) {
   double x = *(const double*)a, y = *(const double*)b;
   return (x > y) - (x < y);
}

static double median(double* v, size_t n) {
   qsort(v, n, sizeof(double), compareDouble);
   return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Siegel's repeated median: per point the median of its slopes to all the
 * others, then the median of those. Up to half the minima may be outliers
 * (a start-up step, one odd bucket) without moving the answer. */
static bool repeatedMedianSlope(const HistoryPoint* pts, size_t n, double* slope) {
   double perPoint[GROWTH_SLICES], slopes[GROWTH_SLICES];
   size_t used = 0;
   for (size_t i = 0; i < n; i++) {
      size_t m = 0;
      for (size_t j = 0; j < n; j++) {
         double dt = pts[j].time - pts[i].time;
         if (j != i && dt != 0)
            slopes[m++] = (pts[j].min - pts[i].min) / dt;
      }
      if (m > 0)
         perPoint[used++] = median(slopes, m);
   }
   if (used == 0)
      return false;
   *slope = median(perPoint, used);
   return true;
}

double History_growthPerMinute(const History* this, HistorySeries series, double windowS, double minSpanS, bool* ok) {
   *ok = false;
   const HistorySample* last = History_last(this);
   if (!last || series >= HISTORY_SERIES_COUNT || History_span(this) < minSpanS)
      return 0.0;
   double from = windowStart(this, windowS);
   Resolution res = resolutionFor(this, from);
   double oldest = resolutionOldest(this, res);
   if (oldest > from)
      from = oldest; /* slice what the resolution holds, so no slice is empty */
   Slices s = { .from = from, .width = (last->time - from) / GROWTH_SLICES };
   forEachPoint(this, res, series, from, slicePoint, &s);
   HistoryPoint pts[GROWTH_SLICES] = { 0 };
   size_t n = 0;
   for (size_t k = 0; k < GROWTH_SLICES; k++) {
      if (s.used[k])
         pts[n++] = s.low[k];
   }
   double slope;
   if (n < MIN_GROWTH_POINTS || !repeatedMedianSlope(pts, n, &slope))
      return 0.0;
   *ok = true;
   return slope * 60.0;
}

/* ---- memory ----------------------------------------------------------------- */

size_t History_bytes(const History* this) {
   return sizeof(*this) + this->samples.allocated * sizeof(HistorySample) +
          (this->minutes.closed.allocated + this->tenMinutes.closed.allocated) * sizeof(Bucket);
}

size_t History_maxBytes(size_t sampleCapacity) {
   size_t samples = sampleCapacity ? sampleCapacity : HISTORY_DEFAULT_CAPACITY;
   return sizeof(History) + samples * sizeof(HistorySample) +
          (HISTORY_MINUTE_BUCKETS + HISTORY_TENMIN_BUCKETS) * sizeof(Bucket);
}
