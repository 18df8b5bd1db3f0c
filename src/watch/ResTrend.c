/* Per-minute RES minima of every process; see ResTrend.h. */
#include "stacktop/ResTrend.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

typedef struct Trend_ {
   pid_t pid;
   unsigned long long startTicks;
   double minuteStart;                     /* of the newest slice */
   double starts[RESTREND_MINUTES];        /* start of each slice, oldest first */
   unsigned long minima[RESTREND_MINUTES]; /* oldest first; the last is the running minute */
   unsigned char count;
} Trend;

struct ResTrend_ {
   Trend* items; /* by pid, as the Sampler's rows */
   size_t count, cap;
   Trend* next;
   size_t nextCap;
};

ResTrend* ResTrend_new(void) {
   return Util_xcalloc(1, sizeof(ResTrend));
}

void ResTrend_free(ResTrend* this) {
   if (!this)
      return;
   free(this->items);
   free(this->next);
   free(this);
}

static void fold(Trend* t, unsigned long res, double now, double bucketS) {
   if (t->count == 0 || now - t->minuteStart >= bucketS) {
      if (t->count == RESTREND_MINUTES) {
         memmove(t->minima, t->minima + 1, (RESTREND_MINUTES - 1) * sizeof(t->minima[0]));
         memmove(t->starts, t->starts + 1, (RESTREND_MINUTES - 1) * sizeof(t->starts[0]));
         t->count--;
      }
      t->starts[t->count] = now;
      t->minima[t->count++] = res;
      t->minuteStart = now;
      return;
   }
   if (res < t->minima[t->count - 1])
      t->minima[t->count - 1] = res;
}

void ResTrend_update(ResTrend* this, const Sampler* sampler, double now, double bucketS) {
   size_t n = Sampler_count(sampler), j = 0;
   Util_growArray((void**)&this->next, &this->nextCap, n, sizeof(Trend));
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = Sampler_at(sampler, i);
      while (j < this->count && this->items[j].pid < p->pid)
         j++;
      Trend* t = &this->next[i];
      if (j < this->count && this->items[j].pid == p->pid && this->items[j].startTicks == p->startTicks)
         *t = this->items[j];
      else
         *t = (Trend){ .pid = p->pid, .startTicks = p->startTicks };
      fold(t, p->resKiB, now, bucketS);
   }
   Trend* old = this->items;
   size_t oldCap = this->cap;
   this->items = this->next;
   this->cap = this->nextCap;
   this->count = n;
   this->next = old;
   this->nextCap = oldCap;
}

bool ResTrend_growth(const ResTrend* this, pid_t pid, unsigned long long startTicks, double* kibPerMin, double* spanS) {
   size_t lo = 0, hi = this->count;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->items[mid].pid < pid)
         lo = mid + 1;
      else
         hi = mid;
   }
   if (lo >= this->count || this->items[lo].pid != pid || this->items[lo].startTicks != startTicks)
      return false;
   const Trend* t = &this->items[lo];
   /* Whole minutes only: the running one's minimum is still falling. */
   if (t->count < 3)
      return false;
   size_t last = t->count - 2;
   double span = t->starts[last] - t->starts[0];
   if (!(span > 0))
      return false;
   *kibPerMin = ((double)t->minima[last] - (double)t->minima[0]) / (span / 60);
   *spanS = span;
   return true;
}

size_t ResTrend_bytes(const ResTrend* this) {
   return sizeof(*this) + (this->cap + this->nextCap) * sizeof(Trend);
}
