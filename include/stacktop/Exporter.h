#ifndef STACKTOP_EXPORTER_H
#define STACKTOP_EXPORTER_H
/* The Prometheus metrics of `stacktop watch`, made from the watcher's own
 * samples: after each sample the watcher hands every service's processes
 * and every rule's finding to the Exporter, which renders the exposition
 * once (Metrics.h) and keeps the text for the /metrics listener and the
 * node_exporter textfile. A scrape therefore costs no /proc read.
 *
 * Per [service NAME] (groupname) it accounts like process-exporter: gauges
 * summed over the service's processes; counters (CPU seconds, I/O bytes, page
 * faults, context switches) that never go backwards while the watcher runs,
 * even when processes exit: a process counts with everything it did when
 * first seen in the service's first sample or when it started after the
 * previous sample, else with what it does from now on. Besides the Sampler's
 * figures it reads /proc/PID/stat, status, io, fd and limits of the matched
 * processes (only with the process-exporter set on); a file that cannot be
 * read counts in stacktop_proc_read_errors_total. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Evidence.h"
#include "stacktop/Incident.h"
#include "stacktop/Metrics.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"

typedef struct Exporter_ Exporter;

Exporter* Exporter_new(bool processExporter);
void Exporter_free(Exporter* this);
/* After a reload: whether the process-exporter set is exported. */
void Exporter_configure(Exporter* this, bool processExporter);
/* The series, for counting events (bundles, dumps, mail, alerts); owned by the Exporter. */
Metrics* Exporter_metrics(Exporter* this);

/* A sample begins: the gauges of the last one are dropped. */
void Exporter_beginSample(Exporter* this);
/* The processes a service matched in this sample. */
void Exporter_service(Exporter* this, const char* name, const ProcessSample* const* procs, size_t n);
/* What a rule found for a service (known: it could judge at least one
 * process; value in the rule's unit, the worst process). */
void Exporter_rule(Exporter* this, const char* service, RuleKind kind, const RuleSpec* spec, bool failing, bool known,
                   double value);
/* The sample is complete: renders the exposition. */
void Exporter_endSample(Exporter* this, double sampleSeconds, unsigned long long bundleDirBytes, size_t mailPending);
/* Events, counted as they happen. Every one accepts a NULL exporter
 * (metrics off) and does nothing then. */
void Exporter_episode(Exporter* this, const char* service, RuleKind kind);
/* action: one of the RULE_ACTION_SUPPRESS_* */
void Exporter_suppressed(Exporter* this, const char* service, RuleKind kind, RuleAction action);
void Exporter_bundled(Exporter* this, const Incident* incident, const EvidenceResult* result);
void Exporter_bundleFailed(Exporter* this, const Incident* incident);
void Exporter_mailed(Exporter* this, bool delivered);
void Exporter_alert(Exporter* this, const char* outcome);
/* The last rendered exposition (valid until the next Exporter_endSample). */
const char* Exporter_text(const Exporter* this, size_t* len);
/* Writes the last exposition to path atomically (a private temporary file in
 * the same directory, mode 0644, renamed over path; never through a link),
 * for node_exporter's textfile collector. Returns 0, or -1 with a message. */
int Exporter_writeTextfile(const Exporter* this, const char* path, char* err, size_t errSize);

#endif
