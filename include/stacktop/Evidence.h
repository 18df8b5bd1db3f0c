#ifndef STACKTOP_EVIDENCE_H
#define STACKTOP_EVIDENCE_H
/* What goes into a diagnostic bundle when a rule fires: summary.txt and
 * summary.json; per process the grouped stack dump (text and folded), status,
 * smaps_rollup, limits, maps, io, cgroup, the open fds (link targets only) and
 * history.csv; the system's meminfo, loadavg and top 20 by RES; pprof
 * profiles of Go services. Never the environment or memory contents. */
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"
#include "stacktop/WatchConfig.h"

typedef struct EvidenceRequest_ {
   const WatchConfig* config;
   const char* serviceName; /* "system" for the global rule */
   const char* pprofUrl;    /* NULL: no pprof */
   RuleKind rule;
   const char* reason;    /* one line: what fired and the values */
   const char* threshold; /* the rule as configured, e.g. "90% for 3 samples" */
   double value;          /* the figure that fired, in Rule_unit(rule) */
   const ProcessSample* const* processes;
   size_t processCount;
   const pid_t* gonePids; /* restart: pids that disappeared */
   size_t goneCount;
   const Sampler* sampler; /* system figures and the top 20 */
   double wallTime;
} EvidenceRequest;

/* Writes the bundle; returns 0 and its path, or -1 with a message. Individual
 * items that cannot be collected are noted in the summary, never fatal. */
int Evidence_write(const EvidenceRequest* req, char* path, size_t pathSize, char* err, size_t errSize);

#endif
