#ifndef STACKTOP_EVIDENCE_H
#define STACKTOP_EVIDENCE_H
/* What goes into a diagnostic bundle when a rule fires, one table of
 * collectors (Evidence.c): per process of the incident the grouped stack
 * dump (text and folded, stack copies capped by dump_memory), status,
 * smaps_rollup, limits, maps, io, cgroup, the open fds (link targets only)
 * and history.csv; the system's meminfo, loadavg and the top 20 by RES; for
 * a memory incident also the top 20 by RES growth and the smaps_rollup of
 * each of those; pprof profiles of the service's Go processes (for a memory
 * incident, the heap of every watched Go service). Then summary.txt and
 * summary.json: the incident, and every item that could not be collected
 * and why. Never environments or memory contents; every string a process
 * controls is made printable, and command lines of other users' processes
 * are left out. Runs in the bundle job, off the sampling thread. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Incident.h"
#include "stacktop/ResTrend.h"
#include "stacktop/Sampler.h"
#include "stacktop/WatchConfig.h"

typedef struct EvidenceRequest_ {
   const WatchConfig* config;
   const Incident* incident;
   const Sampler* sampler; /* the table at collection time: histories, top lists */
   const ResTrend* trend;  /* RES growth of every process; NULL when not kept */
   int dirFd;              /* the checked bundle_dir */
} EvidenceRequest;

/* One stack dump taken for the bundle (for the watcher's metrics). */
typedef struct EvidenceDump_ {
   int pid;
   bool ok;
   double stoppedMs; /* how long the process was paused */
} EvidenceDump;

/* A pprof endpoint that could not be fetched. */
typedef struct EvidencePprofFailure_ {
   char service[128];
   char endpoint[32]; /* "goroutine?debug=1", "heap", "profile" */
} EvidencePprofFailure;

#define EVIDENCE_DUMPS_MAX 16
#define EVIDENCE_PPROF_FAILURES_MAX 16

typedef struct EvidenceResult_ {
   unsigned long long size; /* of NAME.tar.gz */
   size_t notes;            /* items not collected */
   char mailText[4096];     /* for the mail: goroutine counts, what is missing */
   EvidenceDump dumps[EVIDENCE_DUMPS_MAX];
   size_t dumpCount;
   EvidencePprofFailure pprofFailures[EVIDENCE_PPROF_FAILURES_MAX];
   size_t pprofFailureCount;
} EvidenceResult;

/* Writes NAME.tar.gz for the incident; returns 0, or -1 with a message when
 * the bundle itself could not be written (items that cannot be collected are
 * noted in the summary, never fatal). */
int Evidence_write(const EvidenceRequest* req, EvidenceResult* result, char* err, size_t errSize);

#endif
