#ifndef STACKTOP_RESTREND_H
#define STACKTOP_RESTREND_H
/* Which processes on the host are growing, for the memory incident, without
 * a History for each of them: per process the lowest RES in each of the last
 * RESTREND_MINUTES slices of bucketS seconds (the watcher uses 12 intervals,
 * at most a minute; about 170 bytes a process), and the growth of those
 * minima. Kept only when system_mem_available_below is configured. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Sampler.h"

#define RESTREND_MINUTES 16

typedef struct ResTrend_ ResTrend;

ResTrend* ResTrend_new(void);
void ResTrend_free(ResTrend* this);
/* Folds this refresh into the trend (now: monotonic seconds); processes that
 * are gone are dropped. */
void ResTrend_update(ResTrend* this, const Sampler* sampler, double now, double bucketS);
/* RES growth of the process in KiB per minute, from its first to its latest
 * whole slice; false until two whole slices are recorded. */
bool ResTrend_growth(const ResTrend* this, pid_t pid, unsigned long long startTicks, double* kibPerMin, double* spanS);
size_t ResTrend_bytes(const ResTrend* this);

#endif
