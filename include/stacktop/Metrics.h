#ifndef STACKTOP_METRICS_H
#define STACKTOP_METRICS_H
/* Prometheus metrics of `stacktop watch`: the one table of metric families
 * (name, type, help, unit, label names; Metrics.c) and a set of samples
 * rendered in the text exposition format 0.0.4:
 * - every family with samples gets its HELP and TYPE line once, its samples
 *   directly below (families grouped, in table order);
 * - a series (family + label values) exists once: setting it again replaces
 *   the value, adding to it accumulates;
 * - label values are escaped (\\, \", \n) and made valid UTF-8 (Prometheus
 *   refuses a scrape with invalid UTF-8; bad bytes become U+FFFD), HELP text
 *   escapes \\ and \n; no timestamps (the values are the last watch sample's,
 *   as the HELP texts say).
 * Families come in two kinds: the process-exporter drop-in set
 * (namedprocess_namegroup_*, same names, labels and label values as
 * ncabatoff/process-exporter 0.7) and stacktop's own (stacktop_*). Pure: no
 * I/O but the FILE* it renders into. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum MetricType_ {
   METRIC_GAUGE,
   METRIC_COUNTER,
} MetricType;

typedef enum MetricId_ {
   /* process-exporter's names, per [service NAME] as groupname */
   METRIC_PE_NUM_PROCS,
   METRIC_PE_CPU_SECONDS,
   METRIC_PE_MEMORY_BYTES,
   METRIC_PE_NUM_THREADS,
   METRIC_PE_STATES,
   METRIC_PE_OPEN_FILEDESC,
   METRIC_PE_WORST_FD_RATIO,
   METRIC_PE_OLDEST_START,
   METRIC_PE_READ_BYTES,
   METRIC_PE_WRITE_BYTES,
   METRIC_PE_MAJOR_FAULTS,
   METRIC_PE_MINOR_FAULTS,
   METRIC_PE_CONTEXT_SWITCHES,
   /* stacktop's own */
   METRIC_THREADS,
   METRIC_GOROUTINES,
   METRIC_RES_GROWTH,
   METRIC_THREADS_GROWTH,
   METRIC_GOROUTINES_GROWTH,
   METRIC_RULE_FAILING,
   METRIC_RULE_VALUE,
   METRIC_RULE_THRESHOLD,
   METRIC_RULE_EPISODES,
   METRIC_BUNDLES_WRITTEN,
   METRIC_BUNDLE_FAILURES,
   METRIC_BUNDLES_SUPPRESSED,
   METRIC_BUNDLE_LAST_TIME,
   METRIC_BUNDLE_DIR_BYTES,
   METRIC_DUMP_PAUSE,
   METRIC_DUMPS,
   METRIC_MAIL_PENDING,
   METRIC_MAIL_SENT,
   METRIC_MAIL_FAILURES,
   METRIC_PPROF_FAILURES,
   METRIC_ALERTS,
   METRIC_PROC_READ_ERRORS,
   METRIC_SAMPLE_DURATION,
   METRIC_BUILD_INFO,
   METRIC_COUNT,
} MetricId;

#define METRIC_LABELS_MAX 3

typedef struct MetricFamily_ {
   const char* name;
   MetricType type;
   const char* help;
   const char* unit; /* base unit the name ends in ("seconds", "bytes", "ratio"); "" for counts */
   const char* labels[METRIC_LABELS_MAX + 1]; /* label names, NULL-terminated */
   bool processExporter;                      /* the drop-in set (metrics_process_exporter) */
   bool sticky; /* a gauge set when something happens (a bundle, a dump), kept across frames */
} MetricFamily;

/* The row of id. */
const MetricFamily* Metric_family(MetricId id);
/* Number of label names of id. */
size_t Metric_labelCount(MetricId id);

typedef struct Metrics_ Metrics;

Metrics* Metrics_new(void);
void Metrics_free(Metrics* this);
/* A new sample: drops every gauge sample that is not sticky (a service that
 * is gone loses its series); counters and sticky gauges stay. */
void Metrics_beginFrame(Metrics* this);
/* Sets the series (family id, label values in the family's label order;
 * NULL for a family without labels) to value. */
void Metrics_set(Metrics* this, MetricId id, const char* const* labelValues, double value);
/* Adds delta to the series (created at 0). */
void Metrics_add(Metrics* this, MetricId id, const char* const* labelValues, double delta);
/* The series' value, or NAN when it does not exist. */
double Metrics_get(const Metrics* this, MetricId id, const char* const* labelValues);
/* Families of the process-exporter set are left out of the rendering when off. */
void Metrics_setProcessExporter(Metrics* this, bool on);
/* The exposition (text format 0.0.4). Returns 0, or -1 when out writes fail. */
int Metrics_render(const Metrics* this, FILE* out);

/* Content-Type of the rendering. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
