/* The metric family table and the text exposition; see Metrics.h. */
#include "stacktop/Metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

#define G "groupname"
#define CACHED " (from the watcher's last sample)"

/* The one table of families: the exposition's HELP and TYPE lines, the man
 * page's list and the unit tests' naming checks all come from it. */
static const MetricFamily families[METRIC_COUNT] = {
   [METRIC_PE_NUM_PROCS] = { .name = "namedprocess_namegroup_num_procs",
                             .type = METRIC_GAUGE,
                             .help = "number of processes in this group" CACHED,
                             .unit = "",
                             .labels = { G },
                             .processExporter = true },
   [METRIC_PE_CPU_SECONDS] = { .name = "namedprocess_namegroup_cpu_seconds_total",
                               .type = METRIC_COUNTER,
                               .help = "CPU time the group's processes used, user and system, in seconds" CACHED,
                               .unit = "seconds",
                               .labels = { G, "mode" },
                               .processExporter = true },
   [METRIC_PE_MEMORY_BYTES] = { .name = "namedprocess_namegroup_memory_bytes",
                                .type = METRIC_GAUGE,
                                .help = "resident, virtual and swapped memory of the group in bytes" CACHED,
                                .unit = "bytes",
                                .labels = { G, "memtype" },
                                .processExporter = true },
   [METRIC_PE_NUM_THREADS] = { .name = "namedprocess_namegroup_num_threads",
                               .type = METRIC_GAUGE,
                               .help = "number of threads in this group" CACHED,
                               .unit = "",
                               .labels = { G },
                               .processExporter = true },
   [METRIC_PE_STATES] = { .name = "namedprocess_namegroup_states",
                          .type = METRIC_GAUGE,
                          .help = "threads of the group by state: Running, Sleeping, Waiting (D), Zombie, Other "
                                  "(each thread counted once)" CACHED,
                          .unit = "",
                          .labels = { G, "state" },
                          .processExporter = true },
   [METRIC_PE_OPEN_FILEDESC] = { .name = "namedprocess_namegroup_open_filedesc",
                                 .type = METRIC_GAUGE,
                                 .help = "open file descriptors of the group" CACHED,
                                 .unit = "",
                                 .labels = { G },
                                 .processExporter = true },
   [METRIC_PE_WORST_FD_RATIO] = { .name = "namedprocess_namegroup_worst_fd_ratio",
                                  .type = METRIC_GAUGE,
                                  .help = "the highest open file descriptors / soft RLIMIT_NOFILE of a process of "
                                          "the group" CACHED,
                                  .unit = "ratio",
                                  .labels = { G },
                                  .processExporter = true },
   [METRIC_PE_OLDEST_START] = { .name = "namedprocess_namegroup_oldest_start_time_seconds",
                                .type = METRIC_GAUGE,
                                .help = "start time of the group's oldest process, in seconds since the epoch" CACHED,
                                .unit = "seconds",
                                .labels = { G },
                                .processExporter = true },
   [METRIC_PE_READ_BYTES] = { .name = "namedprocess_namegroup_read_bytes_total",
                              .type = METRIC_COUNTER,
                              .help = "bytes the group read from storage (/proc/PID/io read_bytes)" CACHED,
                              .unit = "bytes",
                              .labels = { G },
                              .processExporter = true },
   [METRIC_PE_WRITE_BYTES] = { .name = "namedprocess_namegroup_write_bytes_total",
                               .type = METRIC_COUNTER,
                               .help = "bytes the group wrote to storage (/proc/PID/io write_bytes)" CACHED,
                               .unit = "bytes",
                               .labels = { G },
                               .processExporter = true },
   [METRIC_PE_MAJOR_FAULTS] = { .name = "namedprocess_namegroup_major_page_faults_total",
                                .type = METRIC_COUNTER,
                                .help = "major page faults of the group" CACHED,
                                .unit = "",
                                .labels = { G },
                                .processExporter = true },
   [METRIC_PE_MINOR_FAULTS] = { .name = "namedprocess_namegroup_minor_page_faults_total",
                                .type = METRIC_COUNTER,
                                .help = "minor page faults of the group" CACHED,
                                .unit = "",
                                .labels = { G },
                                .processExporter = true },
   [METRIC_PE_CONTEXT_SWITCHES] = { .name = "namedprocess_namegroup_context_switches_total",
                                    .type = METRIC_COUNTER,
                                    .help = "voluntary and nonvoluntary context switches of the group" CACHED,
                                    .unit = "",
                                    .labels = { G, "ctxswitchtype" },
                                    .processExporter = true },
   [METRIC_THREADS] = { .name = "stacktop_threads",
                        .type = METRIC_GAUGE,
                        .help = "threads of the service by /proc state letter (R, S, D, T, Z)" CACHED,
                        .unit = "",
                        .labels = { G, "state" } },
   [METRIC_GOROUTINES] = { .name = "stacktop_goroutines",
                           .type = METRIC_GAUGE,
                           .help = "goroutines of the service's Go processes, read from outside like "
                                   "runtime.NumGoroutine()" CACHED,
                           .unit = "",
                           .labels = { G } },
   [METRIC_RES_GROWTH] = { .name = "stacktop_resident_memory_growth_bytes_per_second",
                           .type = METRIC_GAUGE,
                           .help = "growth of RES's floor over the last 30 minutes (the RGROW column), the "
                                   "fastest process of the service, bytes per second" CACHED,
                           .unit = "bytes_per_second",
                           .labels = { G } },
   [METRIC_THREADS_GROWTH] = { .name = "stacktop_threads_growth_per_second",
                               .type = METRIC_GAUGE,
                               .help = "growth of the thread count's floor over the last 30 minutes, the fastest "
                                       "process of the service, threads per second" CACHED,
                               .unit = "per_second",
                               .labels = { G } },
   [METRIC_GOROUTINES_GROWTH] = { .name = "stacktop_goroutines_growth_per_second",
                                  .type = METRIC_GAUGE,
                                  .help = "growth of the goroutine count's floor over the last 30 minutes (the "
                                          "GGROW column), the fastest process of the service, goroutines per "
                                          "second" CACHED,
                                  .unit = "per_second",
                                  .labels = { G } },
   [METRIC_RULE_FAILING] = { .name = "stacktop_rule_failing",
                             .type = METRIC_GAUGE,
                             .help = "1 while the rule is over its threshold, else 0" CACHED,
                             .unit = "",
                             .labels = { G, "rule" } },
   [METRIC_RULE_VALUE] = { .name = "stacktop_rule_value",
                           .type = METRIC_GAUGE,
                           .help = "what the rule measures, the worst process of the service, in base units "
                                   "(ratio of one core or of a limit, bytes, per second)" CACHED,
                           .unit = "",
                           .labels = { G, "rule" } },
   [METRIC_RULE_THRESHOLD] = { .name = "stacktop_rule_threshold",
                               .type = METRIC_GAUGE,
                               .help = "the rule's configured threshold in the base units of stacktop_rule_value",
                               .unit = "",
                               .labels = { G, "rule" } },
   [METRIC_RULE_EPISODES] = { .name = "stacktop_rule_episodes_total",
                              .type = METRIC_COUNTER,
                              .help = "times the rule started failing (or a restart happened)",
                              .unit = "",
                              .labels = { G, "rule" } },
   [METRIC_BUNDLES_WRITTEN] = { .name = "stacktop_bundles_written_total",
                                .type = METRIC_COUNTER,
                                .help = "diagnostic bundles written, by what asked for them (on_demand: an alert or "
                                        "stacktop bundle)",
                                .unit = "",
                                .labels = { G, "rule" } },
   [METRIC_BUNDLE_FAILURES] = { .name = "stacktop_bundle_failures_total",
                                .type = METRIC_COUNTER,
                                .help = "bundle attempts that failed (each is retried)",
                                .unit = "",
                                .labels = { G, "rule" } },
   [METRIC_BUNDLES_SUPPRESSED] = { .name = "stacktop_bundles_suppressed_total",
                                   .type = METRIC_COUNTER,
                                   .help = "bundles not written because of the cooldown, a bundle still pending, "
                                           "or max_bundles_per_hour",
                                   .unit = "",
                                   .labels = { G, "rule", "reason" } },
   [METRIC_BUNDLE_LAST_TIME] = { .name = "stacktop_bundle_last_timestamp_seconds",
                                 .type = METRIC_GAUGE,
                                 .help = "when this watcher last wrote a bundle, seconds since the epoch",
                                 .unit = "seconds",
                                 .labels = { G, "rule" },
                                 .sticky = true },
   [METRIC_BUNDLE_DIR_BYTES] = { .name = "stacktop_bundle_dir_bytes",
                                 .type = METRIC_GAUGE,
                                 .help = "size of the bundles kept in bundle_dir, in bytes" CACHED,
                                 .unit = "bytes",
                                 .labels = { NULL } },
   [METRIC_DUMP_PAUSE] = { .name = "stacktop_dump_pause_seconds",
                           .type = METRIC_GAUGE,
                           .help = "how long the last stack dump of the service kept its process stopped, seconds",
                           .unit = "seconds",
                           .labels = { G },
                           .sticky = true },
   [METRIC_DUMPS] = { .name = "stacktop_dumps_total",
                      .type = METRIC_COUNTER,
                      .help = "stack dumps taken for bundles, by result (ok, failed)",
                      .unit = "",
                      .labels = { G, "result" } },
   [METRIC_MAIL_PENDING] = { .name = "stacktop_mail_pending",
                             .type = METRIC_GAUGE,
                             .help = "mails waiting in bundle_dir for delivery" CACHED,
                             .unit = "",
                             .labels = { NULL } },
   [METRIC_MAIL_SENT] = { .name = "stacktop_mail_sent_total",
                          .type = METRIC_COUNTER,
                          .help = "mail delivery attempts that reached every recipient",
                          .unit = "",
                          .labels = { NULL } },
   [METRIC_MAIL_FAILURES] = { .name = "stacktop_mail_failures_total",
                              .type = METRIC_COUNTER,
                              .help = "mail delivery attempts that left a recipient waiting (retried) or timed out",
                              .unit = "",
                              .labels = { NULL } },
   [METRIC_PPROF_FAILURES] = { .name = "stacktop_pprof_fetch_failures_total",
                               .type = METRIC_COUNTER,
                               .help = "pprof endpoints of a Go service that could not be fetched for a bundle",
                               .unit = "",
                               .labels = { G, "endpoint" } },
   [METRIC_ALERTS] = { .name = "stacktop_alerts_total",
                       .type = METRIC_COUNTER,
                       .help = "Alertmanager alerts received, by outcome (captured, duplicate, suppressed, "
                               "rejected, retry, resolved)",
                       .unit = "",
                       .labels = { "outcome" } },
   [METRIC_PROC_READ_ERRORS] = { .name = "stacktop_proc_read_errors_total",
                                 .type = METRIC_COUNTER,
                                 .help = "/proc files of matched processes that could not be read for the metrics "
                                         "(the process exited, or no permission)",
                                 .unit = "",
                                 .labels = { NULL } },
   [METRIC_SAMPLE_DURATION] = { .name = "stacktop_sample_duration_seconds",
                                .type = METRIC_GAUGE,
                                .help = "how long the last watch sample took (read /proc, evaluate rules), seconds",
                                .unit = "seconds",
                                .labels = { NULL } },
   [METRIC_BUILD_INFO] = { .name = "stacktop_build_info",
                           .type = METRIC_GAUGE,
                           .help = "always 1; the version of the stacktop that serves these metrics",
                           .unit = "",
                           .labels = { "version" } },
};

const MetricFamily* Metric_family(MetricId id) {
   return &families[id];
}

size_t Metric_labelCount(MetricId id) {
   size_t n = 0;
   while (n < METRIC_LABELS_MAX && families[id].labels[n])
      n++;
   return n;
}

/* ---- series */

typedef struct Series_ {
   char* key; /* the escaped label block: {a="x",b="y"}, or "" */
   double value;
} Series;

typedef struct SeriesList_ {
   Series* items;
   size_t count, cap;
} SeriesList;

struct Metrics_ {
   SeriesList lists[METRIC_COUNT];
   bool processExporter;
};

Metrics* Metrics_new(void) {
   Metrics* m = Util_xcalloc(1, sizeof(Metrics));
   m->processExporter = true;
   return m;
}

static void clearList(SeriesList* l) {
   for (size_t i = 0; i < l->count; i++)
      free(l->items[i].key);
   l->count = 0;
}

void Metrics_free(Metrics* this) {
   if (!this)
      return;
   for (size_t i = 0; i < METRIC_COUNT; i++) {
      clearList(&this->lists[i]);
      free(this->lists[i].items);
   }
   free(this);
}

void Metrics_beginFrame(Metrics* this) {
   for (size_t i = 0; i < METRIC_COUNT; i++) {
      if (families[i].type == METRIC_GAUGE && !families[i].sticky)
         clearList(&this->lists[i]);
   }
}

void Metrics_setProcessExporter(Metrics* this, bool on) {
   this->processExporter = on;
}

/* Length of the well-formed UTF-8 sequence at p, 0 if it is not one. */
static size_t utf8Length(const unsigned char* p) {
   unsigned char c = p[0], lo = 0x80, hi = 0xbf;
   size_t len;
   if (c < 0x80)
      return 1;
   if (c >= 0xc2 && c <= 0xdf)
      len = 2;
   else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
   } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
   } else
      return 0;
   if (p[1] < lo || p[1] > hi)
      return 0;
   for (size_t i = 2; i < len; i++) {
      if (p[i] < 0x80 || p[i] > 0xbf)
         return 0;
   }
   return len;
}

/* A growing string for label blocks. */
typedef struct Text_ {
   char* data;
   size_t len, cap;
} Text;

static void append(Text* t, const void* bytes, size_t n) {
   Util_growArray((void**)&t->data, &t->cap, t->len + n + 1, 1);
   memcpy(t->data + t->len, bytes, n);
   t->len += n;
   t->data[t->len] = '\0';
}

static void appendString(Text* t, const char* s) {
   append(t, s, strlen(s));
}

/* A label value as the text format wants it: \\, \" and \n escaped, valid UTF-8. */
static void appendLabelValue(Text* t, const char* s) {
   for (const unsigned char* p = (const unsigned char*)s; *p;) {
      size_t len = utf8Length(p);
      if (len == 0) {
         appendString(t, "\xef\xbf\xbd"); /* U+FFFD */
         p++;
         continue;
      }
      if (*p == '\\')
         appendString(t, "\\\\");
      else if (*p == '"')
         appendString(t, "\\\"");
      else if (*p == '\n')
         appendString(t, "\\n");
      else
         append(t, p, len);
      p += len;
   }
}

/* The label block of a series; "" without labels. Caller frees. */
static char* seriesKey(MetricId id, const char* const* values) {
   Text t = { 0 };
   appendString(&t, "");
   size_t n = Metric_labelCount(id);
   for (size_t i = 0; i < n; i++) {
      appendString(&t, i ? "," : "{");
      appendString(&t, families[id].labels[i]);
      appendString(&t, "=\"");
      appendLabelValue(&t, values && values[i] ? values[i] : "");
      appendString(&t, "\"");
   }
   if (n)
      appendString(&t, "}");
   return t.data;
}

static Series* find(const SeriesList* l, const char* key) {
   for (size_t i = 0; i < l->count; i++) {
      if (strcmp(l->items[i].key, key) == 0)
         return &l->items[i];
   }
   return NULL;
}

/* The series, created at 0 when new. */
static Series* series(Metrics* this, MetricId id, const char* const* values) {
   char* key = seriesKey(id, values);
   SeriesList* l = &this->lists[id];
   Series* s = find(l, key);
   if (s) {
      free(key);
      return s;
   }
   Util_growArray((void**)&l->items, &l->cap, l->count, sizeof(Series));
   s = &l->items[l->count++];
   s->key = key;
   s->value = 0;
   return s;
}

void Metrics_set(Metrics* this, MetricId id, const char* const* labelValues, double value) {
   series(this, id, labelValues)->value = value;
}

void Metrics_add(Metrics* this, MetricId id, const char* const* labelValues, double delta) {
   series(this, id, labelValues)->value += delta;
}

double Metrics_get(const Metrics* this, MetricId id, const char* const* labelValues) {
   char* key = seriesKey(id, labelValues);
   const Series* s = find(&this->lists[id], key);
   free(key);
   return s ? s->value : NAN;
}

/* ---- rendering */

/* A value as Go's ParseFloat reads it, in as few digits as round-trip. */
static void writeValue(FILE* out, double v) {
   if (isnan(v)) {
      fputs("NaN", out);
      return;
   }
   if (isinf(v)) {
      fputs(v > 0 ? "+Inf" : "-Inf", out);
      return;
   }
   char buf[40];
   snprintf(buf, sizeof(buf), "%.15g", v);
   if (strtod(buf, NULL) != v)
      snprintf(buf, sizeof(buf), "%.17g", v);
   fputs(buf, out);
}

/* HELP text: \\ and \n escaped (the table's texts have none, but keep the rule in one place). */
static void writeHelp(FILE* out, const char* help) {
   for (const char* p = help; *p; p++) {
      if (*p == '\\')
         fputs("\\\\", out);
      else if (*p == '\n')
         fputs("\\n", out);
      else
         fputc(*p, out);
   }
}

int Metrics_render(const Metrics* this, FILE* out) {
   for (size_t i = 0; i < METRIC_COUNT; i++) {
      const MetricFamily* f = &families[i];
      const SeriesList* l = &this->lists[i];
      if (l->count == 0 || (f->processExporter && !this->processExporter))
         continue;
      fprintf(out, "# HELP %s ", f->name);
      writeHelp(out, f->help);
      fprintf(out, "\n# TYPE %s %s\n", f->name, f->type == METRIC_COUNTER ? "counter" : "gauge");
      for (size_t k = 0; k < l->count; k++) {
         fprintf(out, "%s%s ", f->name, l->items[k].key);
         writeValue(out, l->items[k].value);
         fputc('\n', out);
      }
   }
   return ferror(out) ? -1 : 0;
}
