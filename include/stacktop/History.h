#ifndef STACKTOP_HISTORY_H
#define STACKTOP_HISTORY_H
/* Fixed-capacity ring buffer of per-process samples, newest last.
 * Used by the monitor (short history for RGROW and sparklines) and by the
 * watcher (windows for growth rules). */
#include <stddef.h>

typedef struct HistorySample_ {
   double time;     /* monotonic seconds */
   double wallTime; /* CLOCK_REALTIME seconds, for reports */
   double cpuPct;   /* share of one core, 100 = one busy core */
   unsigned long resKiB;
   unsigned long threads;
} HistorySample;

typedef struct History_ History;

#define HISTORY_DEFAULT_CAPACITY 120

History* History_new(size_t capacity);
void History_free(History* this);
void History_push(History* this, const HistorySample* sample);
size_t History_count(const History* this);
size_t History_capacity(const History* this);
/* i = 0 is the oldest kept sample; i < History_count(). */
const HistorySample* History_at(const History* this, size_t i);
const HistorySample* History_last(const History* this);

typedef enum HistoryField_ {
   HISTORY_CPU,
   HISTORY_RES,
   HISTORY_THREADS,
} HistoryField;

/* Least-squares slope of `field` per minute over the samples whose time is
 * within `windowS` seconds of the newest one (windowS <= 0: every sample).
 * Returns 0 with *ok = 0 when fewer than two samples qualify. */
double History_slopePerMinute(const History* this, HistoryField field, double windowS, int* ok);
/* Time span in seconds between the oldest and newest kept samples. */
double History_span(const History* this);

#endif
