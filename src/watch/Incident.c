/* Incidents: capture, signed persistence, description; see Incident.h. */
#include "stacktop/Incident.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/Format.h"
#include "stacktop/Printable.h"
#include "stacktop/Util.h"

#define INCIDENT_KIND "incident"

void Incident_init(Incident* this, const char* name, const char* service, RuleKind rule, const char* threshold,
                   double value, const char* reason, double firedWall) {
   memset(this, 0, sizeof(*this));
   this->name = Util_xstrdup(name);
   this->service = Printable_dup(service);
   this->rule = rule;
   this->threshold = Printable_dup(threshold);
   this->value = value;
   this->reason = Printable_dup(reason);
   this->firedWall = firedWall;
}

static void freePairs(IncidentPair* p, size_t n) {
   for (size_t i = 0; i < n; i++) {
      free(p[i].key);
      free(p[i].value);
   }
   free(p);
}

static void freeAlert(IncidentAlert* a) {
   if (!a)
      return;
   free(a->name);
   free(a->fingerprint);
   free(a->startsAt);
   free(a->generatorUrl);
   free(a->receiver);
   freePairs(a->labels, a->labelCount);
   freePairs(a->annotations, a->annotationCount);
   free(a);
}

void Incident_free(Incident* this) {
   freeAlert(this->alert);
   for (size_t i = 0; i < this->processCount; i++)
      free(this->processes[i].command);
   free(this->processes);
   free(this->gone);
   free(this->name);
   free(this->service);
   free(this->threshold);
   free(this->reason);
   free(this->lastError);
   memset(this, 0, sizeof(*this));
}

static IncidentProcess* newProcess(Incident* this) {
   this->processes = Util_xrealloc(this->processes, (this->processCount + 1) * sizeof(IncidentProcess));
   IncidentProcess* ip = &this->processes[this->processCount++];
   memset(ip, 0, sizeof(*ip));
   return ip;
}

void Incident_addProcess(Incident* this, const ProcessSample* p) {
   IncidentProcess* ip = newProcess(this);
   ip->pid = p->pid;
   ip->startTicks = p->startTicks;
   ip->uid = p->uid;
   Printable_copy(ip->user, sizeof(ip->user), p->user);
   Printable_copy(ip->comm, sizeof(ip->comm), p->comm);
   ip->state = (p->state >= 'A' && p->state <= 'Z') || (p->state >= 'a' && p->state <= 'z') ? p->state : '?';
   ip->threads = p->threads;
   ip->cpuPct = p->cpuPct;
   ip->resKiB = p->resKiB;
   ip->growthKnown = p->resGrowthKnown;
   ip->resGrowthKiBPerMin = p->resGrowthKiBPerMin;
   ip->command = Printable_dup(p->command ? p->command : "");
}

void Incident_addGone(Incident* this, pid_t pid) {
   this->gone = Util_xrealloc(this->gone, (this->goneCount + 1) * sizeof(pid_t));
   this->gone[this->goneCount++] = pid;
}

void Incident_setError(Incident* this, const char* error) {
   free(this->lastError);
   this->lastError = error ? Printable_dup(error) : NULL;
}

void Incident_setAlert(Incident* this, const char* name, const char* fingerprint, const char* startsAt,
                       const char* generatorUrl, const char* receiver) {
   freeAlert(this->alert);
   IncidentAlert* a = Util_xcalloc(1, sizeof(IncidentAlert));
   a->name = Printable_dup(name);
   a->fingerprint = Printable_dup(fingerprint);
   a->startsAt = Printable_dup(startsAt);
   a->generatorUrl = Printable_dup(generatorUrl);
   a->receiver = Printable_dup(receiver);
   this->alert = a;
}

void Incident_addAlertPair(Incident* this, bool annotation, const char* key, const char* value) {
   IncidentAlert* a = this->alert;
   if (!a)
      return;
   IncidentPair** list = annotation ? &a->annotations : &a->labels;
   size_t* count = annotation ? &a->annotationCount : &a->labelCount;
   *list = Util_xrealloc(*list, (*count + 1) * sizeof(IncidentPair));
   (*list)[*count] = (IncidentPair){ .key = Printable_dup(key), .value = Printable_dup(value) };
   (*count)++;
}

void Incident_file(const Incident* this, const char* suffix, char* buf, size_t size) {
   Util_format(buf, size, "%s%s", this->name, suffix);
}

/* ---- persistence */

/* The alert's fields; a pair is a "alert-label"/"alert-annotation" key
 * followed by its "alert-value". */
static void saveAlert(const IncidentAlert* a, Record* r) {
   if (!a)
      return;
   Record_set(r, "alert", a->name);
   Record_set(r, "alert-fingerprint", a->fingerprint);
   Record_set(r, "alert-starts", a->startsAt);
   Record_set(r, "alert-url", a->generatorUrl);
   Record_set(r, "alert-receiver", a->receiver);
   for (size_t i = 0; i < a->labelCount; i++) {
      Record_set(r, "alert-label", a->labels[i].key);
      Record_set(r, "alert-value", a->labels[i].value);
   }
   for (size_t i = 0; i < a->annotationCount; i++) {
      Record_set(r, "alert-annotation", a->annotations[i].key);
      Record_set(r, "alert-value", a->annotations[i].value);
   }
}

static void loadAlert(Incident* this, const Record* r) {
   if (!Record_get(r, "alert"))
      return;
   Incident_setAlert(this, Record_get(r, "alert"), Record_get(r, "alert-fingerprint"), Record_get(r, "alert-starts"),
                     Record_get(r, "alert-url"), Record_get(r, "alert-receiver"));
   for (size_t i = 0; i + 1 < r->count; i++) {
      const char* k = r->fields[i].key;
      bool annotation = strcmp(k, "alert-annotation") == 0;
      if ((annotation || strcmp(k, "alert-label") == 0) && strcmp(r->fields[i + 1].key, "alert-value") == 0)
         Incident_addAlertPair(this, annotation, r->fields[i].value, r->fields[i + 1].value);
   }
}

int Incident_save(const Incident* this, int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], char* err,
                  size_t errSize) {
   Record r;
   Record_init(&r, INCIDENT_KIND);
   Record_set(&r, "name", this->name);
   Record_set(&r, "service", this->service);
   Record_set(&r, "rule", Rule_name(this->rule));
   Record_set(&r, "threshold", this->threshold);
   Record_setf(&r, "value", "%.17g", this->value);
   Record_set(&r, "reason", this->reason);
   Record_setf(&r, "fired", "%.3f", this->firedWall);
   Record_setf(&r, "pid", "%d", (int)this->pid);
   Record_setf(&r, "attempts", "%u", this->attempts);
   Record_setf(&r, "notice", "%d", this->noticeSent);
   if (this->lastError)
      Record_set(&r, "error", this->lastError);
   for (size_t i = 0; i < this->processCount; i++) {
      const IncidentProcess* p = &this->processes[i];
      Record_setf(&r, "process", "%d %llu %u %c %d %.17g %lu %d %.17g", (int)p->pid, p->startTicks, (unsigned)p->uid,
                  p->state, p->threads, p->cpuPct, p->resKiB, p->growthKnown, p->resGrowthKiBPerMin);
      Record_set(&r, "process-user", p->user);
      Record_set(&r, "process-comm", p->comm);
      Record_set(&r, "process-command", p->command);
   }
   for (size_t i = 0; i < this->goneCount; i++)
      Record_setf(&r, "gone", "%d", (int)this->gone[i]);
   saveAlert(this->alert, &r);
   char file[512];
   Incident_file(this, INCIDENT_SUFFIX, file, sizeof(file));
   int rc = Record_save(&r, dirFd, file, key, err, errSize);
   Record_free(&r);
   return rc;
}

static int parseProcess(Incident* this, const char* v) {
   IncidentProcess* p = newProcess(this);
   int pid, known;
   unsigned uid;
   p->command = Util_xstrdup("");
   if (sscanf(v, "%d %llu %u %c %d %lf %lu %d %lf", &pid, &p->startTicks, &uid, &p->state, &p->threads, &p->cpuPct,
              &p->resKiB, &known, &p->resGrowthKiBPerMin) != 9)
      return -1;
   p->pid = pid;
   p->uid = uid;
   p->growthKnown = known != 0;
   return 0;
}

/* The fields that follow a "process" line belong to it. */
static void processDetail(Incident* this, const char* key, const char* v) {
   if (this->processCount == 0)
      return;
   IncidentProcess* p = &this->processes[this->processCount - 1];
   if (strcmp(key, "process-user") == 0)
      Util_format(p->user, sizeof(p->user), "%s", v);
   else if (strcmp(key, "process-comm") == 0)
      Util_format(p->comm, sizeof(p->comm), "%s", v);
   else if (strcmp(key, "process-command") == 0) {
      free(p->command);
      p->command = Util_xstrdup(v);
   }
}

RecordStatus Incident_load(Incident* this, int dirFd, const char* file, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                           char* err, size_t errSize) {
   memset(this, 0, sizeof(*this));
   Record r;
   RecordStatus st = Record_load(&r, dirFd, file, INCIDENT_KIND, key, err, errSize);
   if (st != RECORD_OK) {
      Record_free(&r);
      return st;
   }
   const char* name = Record_get(&r, "name");
   const char* service = Record_get(&r, "service");
   const char* rule = Record_get(&r, "rule");
   char expect[512];
   Util_format(expect, sizeof(expect), "%s%s", name ? name : "", INCIDENT_SUFFIX);
   int kind = rule ? Rule_byName(rule) : -1;
   if (!name || !service || kind < 0 || strcmp(expect, file) != 0) {
      Util_format(err, errSize, "%s: incomplete incident record", file);
      Record_free(&r);
      return RECORD_MALFORMED;
   }
   Incident_init(this, name, service, (RuleKind)kind, Record_get(&r, "threshold"), Record_getDouble(&r, "value", 0),
                 Record_get(&r, "reason"), Record_getDouble(&r, "fired", 0));
   this->pid = (pid_t)Record_getDouble(&r, "pid", 0);
   this->attempts = (unsigned)Record_getDouble(&r, "attempts", 0);
   this->noticeSent = Record_getDouble(&r, "notice", 0) != 0;
   Incident_setError(this, Record_get(&r, "error"));
   int bad = 0;
   for (size_t i = 0; i < r.count; i++) {
      const char* k = r.fields[i].key;
      const char* v = r.fields[i].value;
      pid_t pid;
      if (strcmp(k, "process") == 0)
         bad |= parseProcess(this, v);
      else if (strncmp(k, "process-", 8) == 0)
         processDetail(this, k, v);
      else if (strcmp(k, "gone") == 0 && Util_parsePid(v, &pid) == 0)
         Incident_addGone(this, pid);
   }
   loadAlert(this, &r);
   Record_free(&r);
   if (bad) {
      Util_format(err, errSize, "%s: malformed process line", file);
      Incident_free(this);
      return RECORD_MALFORMED;
   }
   return RECORD_OK;
}

/* ---- description */

void Incident_isoTime(double wall, char* buf, size_t size) {
   time_t t = (time_t)wall;
   struct tm tm;
   gmtime_r(&t, &tm);
   strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void describeAlert(const IncidentAlert* a, FILE* out) {
   if (!a)
      return;
   fprintf(out, "alert:     %s, firing since %s (fingerprint %s, from Alertmanager receiver %s)\n", a->name,
           a->startsAt, a->fingerprint, a->receiver[0] ? a->receiver : "?");
   for (size_t i = 0; i < a->labelCount; i++)
      fprintf(out, "  label      %s = %s\n", a->labels[i].key, a->labels[i].value);
   for (size_t i = 0; i < a->annotationCount; i++)
      fprintf(out, "  annotation %s = %s\n", a->annotations[i].key, a->annotations[i].value);
   if (a->generatorUrl[0])
      fprintf(out, "  source     %s\n", a->generatorUrl);
}

void Incident_describe(const Incident* this, const char* host, FILE* out) {
   char when[32], value[128], hostText[256];
   Incident_isoTime(this->firedWall, when, sizeof(when));
   Rule_describe(this->rule, this->value, value, sizeof(value));
   Printable_copy(hostText, sizeof(hostText), host);
   fprintf(out, "host:      %s\n", hostText);
   fprintf(out, "incident:  %s (UTC; when the rule fired)\n", when);
   fprintf(out, "service:   %s\n", this->service);
   fprintf(out, "rule:      %s = %s\n", Rule_name(this->rule), this->threshold);
   if (this->rule != RULE_RESTART && this->rule != RULE_ON_DEMAND)
      fprintf(out, "value:     %s (threshold %s)\n", value, this->threshold);
   fprintf(out, "fired:     %s\n", this->reason);
   describeAlert(this->alert, out);
   if (this->recovered)
      fputs("note:      recovered after the watcher was restarted; what was collected is from the time of "
            "collection, the values above from the incident\n",
            out);
   fprintf(out, "\nprocesses when it fired (%zu):\n", this->processCount);
   if (this->processCount)
      fprintf(out, "  %7s %-10s %s %5s %6s %8s %9s  %s\n", "PID", "USER", "S", "THR", "CPU%", "RES", "RGROW/h",
              "COMMAND");
   for (size_t i = 0; i < this->processCount; i++) {
      const IncidentProcess* p = &this->processes[i];
      char res[16], growth[24];
      Format_kib(res, sizeof(res), p->resKiB);
      if (p->growthKnown)
         Format_rate(growth, sizeof(growth), p->resGrowthKiBPerMin * 60);
      else
         Util_format(growth, sizeof(growth), "-");
      fprintf(out, "  %7d %-10.10s %c %5d %6.1f %8s %9s  %s [%s]\n", (int)p->pid, p->user, p->state, p->threads,
              p->cpuPct, res, growth, p->command[0] ? p->command : p->comm, p->comm);
   }
   if (this->processCount == 0)
      fputs("  (none running)\n", out);
   for (size_t i = 0; i < this->goneCount; i++)
      fprintf(out, "  pid %d is gone\n", (int)this->gone[i]);
}
