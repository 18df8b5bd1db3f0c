#ifndef STACKTOP_INCIDENT_H
#define STACKTOP_INCIDENT_H
/* An incident: what a rule saw at the moment it fired (time, value,
 * threshold, the processes with their RES, CPU% and threads), captured on
 * the sampling thread and kept, as a signed record NAME.incident in
 * bundle_dir, until its bundle exists. A watcher killed in the middle of a
 * bundle finds it again at start and bundles it then (recovered), so a
 * one-off event such as a restart is not lost. Every string from a process
 * is made printable when captured. The same description heads summary.txt
 * and the mail. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "stacktop/Record.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"

#define INCIDENT_SUFFIX ".incident"

typedef struct IncidentProcess_ {
   pid_t pid;
   unsigned long long startTicks;
   uid_t uid;
   char user[64]; /* printable */
   char comm[64]; /* printable: escapes may make it longer than 15 */
   char state;
   int threads;
   double cpuPct;
   unsigned long resKiB;
   bool growthKnown;
   double resGrowthKiBPerMin;
   char* command; /* printable; owned */
} IncidentProcess;

typedef struct IncidentPair_ {
   char* key;   /* printable */
   char* value; /* printable */
} IncidentPair;

/* The Alertmanager alert that asked for a bundle (rule on_demand). */
typedef struct IncidentAlert_ {
   char* name; /* its alertname label */
   char* fingerprint;
   char* startsAt;
   char* generatorUrl;
   char* receiver; /* Alertmanager's receiver that sent it */
   IncidentPair* labels;
   size_t labelCount;
   IncidentPair* annotations;
   size_t annotationCount;
} IncidentAlert;

typedef struct Incident_ {
   char* name;    /* HOST-SERVICE-RULE-YYYYmmddTHHMMSS[-N]: the bundle's stem */
   char* service; /* the config's name; "system" for the global rule */
   RuleKind rule;
   char* threshold;  /* as configured: "90% for 3" */
   double value;     /* in Rule_unit(rule) */
   char* reason;     /* printable, one line */
   double firedWall; /* CLOCK_REALTIME when the rule fired */
   pid_t pid;        /* the process that fired (STACKTOP_PID), 0 for none */
   IncidentProcess* processes;
   size_t processCount;
   pid_t* gone; /* restart: pids that went away */
   size_t goneCount;
   IncidentAlert* alert; /* the alert that asked for it; NULL otherwise */
   /* Bookkeeping of its bundle, not part of what happened. */
   bool recovered;    /* read back after the watcher was restarted */
   unsigned attempts; /* bundle attempts that failed */
   char* lastError;   /* why the last one failed, NULL if none did */
   bool noticeSent;   /* the "bundle could not be written" mail went out */
} Incident;

/* Starts an incident (strings copied, made printable). */
void Incident_init(Incident* this, const char* name, const char* service, RuleKind rule, const char* threshold,
                   double value, const char* reason, double firedWall);
void Incident_free(Incident* this);
void Incident_addProcess(Incident* this, const ProcessSample* p);
void Incident_addGone(Incident* this, pid_t pid);
void Incident_setError(Incident* this, const char* error);
/* Attaches the alert that asked for the bundle (every string copied and made
 * printable); the pairs are added one by one with Incident_addAlertPair. */
void Incident_setAlert(Incident* this, const char* name, const char* fingerprint, const char* startsAt,
                       const char* generatorUrl, const char* receiver);
void Incident_addAlertPair(Incident* this, bool annotation, const char* key, const char* value);
/* NAME + suffix (".tar.gz", ".incident", ".mail", ".FAILED") into buf. */
void Incident_file(const Incident* this, const char* suffix, char* buf, size_t size);

/* NAME.incident in dirFd, signed. Returns 0, or -1 with a message. */
int Incident_save(const Incident* this, int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], char* err,
                  size_t errSize);
/* Reads FILE (a NAME.incident) back; RECORD_OK or why not (see Record.h). */
RecordStatus Incident_load(Incident* this, int dirFd, const char* file, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                           char* err, size_t errSize);

/* When, what, the values and the processes, in lines of text: the head of
 * summary.txt and of the mail. */
void Incident_describe(const Incident* this, const char* host, FILE* out);
/* "2026-05-01T12:00:00Z" */
void Incident_isoTime(double wall, char* buf, size_t size);

#endif
