/* Fixed-capacity ring buffer of per-process samples and least-squares trends. */
#include "stacktop/History.h"

#include <stdlib.h>

#include "stacktop/Util.h"

/* The storage grows on demand up to `capacity`: most processes live short
 * or are watched for a few refreshes, and a monitor tracking thousands of
 * processes should not hold 120 samples for each from the start. */
#define HISTORY_INITIAL_ALLOC 8

struct History_ {
   HistorySample* samples; /* owned; `allocated` entries, a ring once count == capacity */
   size_t allocated;
   size_t capacity;
   size_t start; /* index of the oldest sample */
   size_t count;
};

History* History_new(size_t capacity) {
   History* this = Util_xcalloc(1, sizeof(History));
   this->capacity = capacity ? capacity : HISTORY_DEFAULT_CAPACITY;
   this->allocated = this->capacity < HISTORY_INITIAL_ALLOC ? this->capacity : HISTORY_INITIAL_ALLOC;
   this->samples = Util_xcalloc(this->allocated, sizeof(HistorySample));
   return this;
}

void History_free(History* this) {
   if (!this)
      return;
   free(this->samples);
   free(this);
}

void History_push(History* this, const HistorySample* sample) {
   if (this->count < this->capacity) {
      /* Not full yet: start is 0 and samples are stored in order. */
      if (this->count == this->allocated) {
         size_t grown = this->allocated * 2 < this->capacity ? this->allocated * 2 : this->capacity;
         this->samples = Util_xrealloc(this->samples, grown * sizeof(HistorySample));
         this->allocated = grown;
      }
      this->samples[this->count] = *sample;
      this->count++;
      return;
   }
   /* Full: overwrite the oldest and move the start on. */
   this->samples[this->start] = *sample;
   this->start = (this->start + 1) % this->capacity;
}

size_t History_count(const History* this) {
   return this->count;
}

size_t History_capacity(const History* this) {
   return this->capacity;
}

const HistorySample* History_at(const History* this, size_t i) {
   if (i >= this->count)
      return NULL;
   return &this->samples[(this->start + i) % this->capacity];
}

const HistorySample* History_last(const History* this) {
   return this->count ? History_at(this, this->count - 1) : NULL;
}

static double fieldValue(const HistorySample* s, HistoryField field) {
   switch (field) {
   case HISTORY_CPU: return s->cpuPct;
   case HISTORY_RES: return (double)s->resKiB;
   case HISTORY_THREADS: return (double)s->threads;
   }
   return 0.0;
}

double History_slopePerMinute(const History* this, HistoryField field, double windowS, int* ok) {
   if (ok)
      *ok = 0;
   const HistorySample* last = History_last(this);
   if (!last)
      return 0.0;
   /* Times relative to the newest sample keep the sums small and exact enough. */
   double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
   for (size_t i = 0; i < this->count; i++) {
      const HistorySample* s = History_at(this, i);
      double x = s->time - last->time;
      if (windowS > 0 && -x > windowS)
         continue;
      double y = fieldValue(s, field);
      n += 1;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
   }
   if (n < 2)
      return 0.0;
   double denom = n * sxx - sx * sx;
   if (denom <= 0)
      return 0.0; /* all samples at the same instant: no slope */
   if (ok)
      *ok = 1;
   return (n * sxy - sx * sy) / denom * 60.0;
}

double History_span(const History* this) {
   if (this->count < 2)
      return 0.0;
   return History_last(this)->time - History_at(this, 0)->time;
}
