/* Incidents, their background jobs and the persisted decisions; see Dispatch.h. */
#include "stacktop/Dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Bundle.h"
#include "stacktop/BundleDir.h"
#include "stacktop/Evidence.h"
#include "stacktop/Hook.h"
#include "stacktop/Jobs.h"
#include "stacktop/MailQueue.h"
#include "stacktop/Printable.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"
#include "stacktop/WatchState.h"

/* Kinds of jobs, for Jobs_running. */
enum { JOB_BUNDLE, JOB_MAIL, JOB_HOOK, JOB_NOTICE };

/* Extra time past a job's own limits before it is killed regardless. */
#define JOB_GRACE_S 5.0

typedef struct Queued_ {
   Incident incident;
   double retryAt; /* WatchState_now() of the next attempt */
   bool tried;     /* attempted in this run */
} Queued;

struct Dispatch_ {
   const WatchConfig* config;
   char* bundleDir; /* the one in use, to notice a reload moving it */
   const Sampler* sampler;
   const ResTrend* trend;
   bool once;
   Jobs* jobs;
   int dirFd; /* re-opened and re-checked at every poll */
   char dirProblem[768];
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   bool haveKey;
   WatchState state; /* the cache of bundle_dir/state */
   WatchStateStamp stamp;
   bool stateProblem;
   Queued* queue;
   size_t queueCount, queueCap;
   bool bundleRunning;
   /* mail */
   bool mailRunning;
   bool mailCheck;      /* something may be due: scan at the next poll */
   double mailNextWall; /* the earliest retry of the others, 0 none */
   size_t mailPending;
   bool flushing; /* sending what an earlier run left, each once */
   char** flushed;
   size_t flushedCount;
   DispatchCounts counts;
   DispatchEvents events;
   int watchingFd;    /* WATCHING_NAME, shared-locked while this watcher runs */
   bool watchingBusy; /* a `stacktop bundle` holds it: it sends the mails now */
};

/* What a bundle job reads in its child. */
typedef struct BundleJob_ {
   Dispatch* d;
   const Incident* incident; /* valid in the child only: the queue may move */
   char name[NAME_MAX + 1];
} BundleJob;

/* ---- bundle_dir and the state */

/* Held (shared) by every running watcher of a bundle_dir, so that `stacktop
 * bundle` knows whether one will send the mail it queues. */
#define WATCHING_NAME ".watching"

/* Takes the shared lock when it is free (a `stacktop bundle` holds it
 * exclusively while it sends a mail itself: retried at the next poll). */
static void holdWatching(Dispatch* d) {
   if (d->watchingFd >= 0 || d->dirFd < 0)
      return;
   int fd = BundleDir_create(d->dirFd, WATCHING_NAME, 0);
   d->watchingBusy = false;
   if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0) {
      d->watchingFd = fd;
      return;
   }
   if (fd >= 0) {
      d->watchingBusy = errno == EWOULDBLOCK;
      close(fd);
   }
}

static void releaseWatching(Dispatch* d) {
   if (d->watchingFd >= 0)
      close(d->watchingFd);
   d->watchingFd = -1;
}

int Dispatch_lockUnwatched(int dirFd) {
   int fd = BundleDir_create(dirFd, WATCHING_NAME, 0);
   if (fd < 0)
      return -1;
   if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      return fd;
   close(fd);
   return -1;
}

/* Re-opens bundle_dir, checked as at start (a removed one is created again),
 * and logs when that stops or starts working. */
static void reopenDir(Dispatch* d) {
   char err[768];
   int fd = BundleDir_open(d->config->bundleDir, true, err, sizeof(err));
   if (d->dirFd >= 0)
      close(d->dirFd);
   d->dirFd = fd;
   if (fd < 0) {
      if (strcmp(err, d->dirProblem) != 0)
         WatchLog_write(WATCHLOG_ERROR, NULL, "%s; bundles and mail wait until it is usable again", err);
      Util_format(d->dirProblem, sizeof(d->dirProblem), "%s", err);
      d->haveKey = false;
      return;
   }
   if (d->dirProblem[0])
      WatchLog_write(WATCHLOG_NOTICE, NULL, "bundle_dir %s is usable again", d->config->bundleDir);
   d->dirProblem[0] = '\0';
   /* Read again every time: a bundle_dir removed and made again has a new key
    * (the jobs read it from the directory too), and a key file replaced by
    * someone else must be noticed. */
   bool had = d->haveKey;
   d->haveKey = BundleDir_key(fd, d->key, err, sizeof(err)) == 0;
   if (!d->haveKey && had)
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s", err);
}

static void stateTrouble(Dispatch* d, const char* what) {
   if (!d->stateProblem)
      WatchLog_write(WATCHLOG_ERROR, NULL,
                     "%s; decisions are kept in memory only (a restart forgets cooldowns and the hourly cap)", what);
   d->stateProblem = true;
}

/* Loads the state into the cache (under the lock). False if it cannot be read. */
static bool loadState(Dispatch* d) {
   WatchState fresh;
   WatchState_init(&fresh, d->state.cap.maxPerHour);
   char err[512];
   int rc = WatchState_load(&fresh, d->dirFd, err, sizeof(err));
   if (rc < 0) {
      WatchState_free(&fresh);
      stateTrouble(d, err);
      return false;
   }
   if (rc > 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s", err);
   WatchState_free(&d->state);
   d->state = fresh;
   return true;
}

typedef void (*StateChange)(Dispatch* d, void* ctx);

/* Load, change, save under the lock: the file, not the cache, is the truth
 * (another stacktop process may have changed it). Without a usable file the
 * change is made to the cache only. */
static void transact(Dispatch* d, StateChange change, void* ctx) {
   char err[512];
   int lock = d->dirFd >= 0 ? WatchState_lock(d->dirFd, err, sizeof(err)) : -1;
   if (lock < 0) {
      if (d->dirFd >= 0)
         stateTrouble(d, err);
      change(d, ctx);
      return;
   }
   if (!loadState(d)) {
      change(d, ctx);
      WatchState_unlock(lock);
      return;
   }
   change(d, ctx);
   if (WatchState_save(&d->state, d->dirFd, err, sizeof(err)) < 0)
      stateTrouble(d, err);
   else
      d->stateProblem = false;
   WatchState_changed(d->dirFd, &d->stamp);
   WatchState_unlock(lock);
}

/* Picks up what another process (or a finished job) wrote. */
static void refreshState(Dispatch* d) {
   if (d->dirFd < 0 || !WatchState_changed(d->dirFd, &d->stamp))
      return;
   char err[512];
   int lock = WatchState_lock(d->dirFd, err, sizeof(err));
   if (lock < 0) {
      d->stamp = (WatchStateStamp){ 0 }; /* try again next time */
      return;
   }
   loadState(d);
   WatchState_changed(d->dirFd, &d->stamp);
   WatchState_unlock(lock);
   /* Another process (`stacktop bundle`) may have queued a mail with its bundle. */
   d->mailCheck = true;
}

/* ---- decisions */

typedef struct StepArgs_ {
   const char* service;
   RuleKind rule;
   bool failing, event;
   RuleAction action;
} StepArgs;

RuleAction Dispatch_decideRequest(WatchState* state, const char* service, double now, double cooldownS) {
   for (size_t i = 0; i < state->episodeCount; i++) {
      const WatchStateEpisode* e = &state->episodes[i];
      if (e->episode.pending && strcmp(e->service, service) == 0)
         return RULE_ACTION_SUPPRESS_PENDING;
   }
   return Rules_event(WatchState_episode(state, service, RULE_ON_DEMAND), now, cooldownS, &state->cap);
}

static void applyStep(Dispatch* d, void* ctx) {
   StepArgs* a = ctx;
   double now = WatchState_now();
   if (a->rule == RULE_ON_DEMAND) {
      a->action = Dispatch_decideRequest(&d->state, a->service, now, d->config->cooldownS);
      return;
   }
   RuleEpisode* ep = WatchState_episode(&d->state, a->service, a->rule);
   a->action = a->event ? Rules_event(ep, now, d->config->cooldownS, &d->state.cap)
                        : Rules_step(ep, a->failing, now, d->config->cooldownS, &d->state.cap);
}

/* Whether Rules_step would leave everything as it is (no file I/O then). */
static bool quiet(Dispatch* d, const RuleEpisode* ep, bool failing) {
   if (!failing)
      return !ep->failing;
   if (!ep->failing)
      return false;
   if (ep->pending)
      return true;
   if (ep->everFired && WatchState_now() - ep->lastFiredAt < d->config->cooldownS)
      return true;
   return ep->capLogged && !FloodCap_allows(&d->state.cap, WatchState_now());
}

RuleAction Dispatch_step(Dispatch* this, const char* service, RuleKind rule, bool failingNow) {
   if (quiet(this, WatchState_episode(&this->state, service, rule), failingNow))
      return RULE_ACTION_NONE;
   StepArgs a = { .service = service, .rule = rule, .failing = failingNow };
   transact(this, applyStep, &a);
   return a.action;
}

RuleAction Dispatch_event(Dispatch* this, const char* service, RuleKind rule) {
   StepArgs a = { .service = service, .rule = rule, .event = true };
   transact(this, applyStep, &a);
   return a.action;
}

RuleAction Dispatch_request(Dispatch* this, const char* service) {
   return Dispatch_event(this, service, RULE_ON_DEMAND);
}

bool Dispatch_usable(const Dispatch* this, char* why, size_t whySize) {
   if (this->dirFd >= 0 && this->haveKey)
      return true;
   Util_format(why, whySize, "%s", this->dirProblem[0] ? this->dirProblem : "bundle_dir has no usable key");
   return false;
}

int Dispatch_dirFd(const Dispatch* this) {
   return this->dirFd;
}

/* A stem is taken by an incident of this run (d may be NULL) or a file in bundle_dir. */
static bool nameTaken(const Dispatch* d, int dirFd, const char* stem) {
   static const char* const suffixes[] = { BUNDLE_SUFFIX, INCIDENT_SUFFIX, MAILQUEUE_SUFFIX };
   for (size_t i = 0; d && i < d->queueCount; i++) {
      if (strcmp(d->queue[i].incident.name, stem) == 0)
         return true;
   }
   for (size_t i = 0; dirFd >= 0 && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
      char file[NAME_MAX + 1];
      struct stat sb;
      Util_format(file, sizeof(file), "%s%s", stem, suffixes[i]);
      if (fstatat(dirFd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0)
         return true;
   }
   return false;
}

static void uniqueName(const Dispatch* d, int dirFd, const char* host, const char* service, const char* label,
                       double wall, char* buf, size_t size) {
   char stem[NAME_MAX - 32];
   Bundle_stem(stem, sizeof(stem), host, service, label, wall);
   Util_format(buf, size, "%s", stem);
   for (int i = 2; nameTaken(d, dirFd, buf) && i < 10000; i++)
      Util_format(buf, size, "%s-%d", stem, i);
}

void Dispatch_name(Dispatch* this, const char* service, RuleKind rule, double wall, char* buf, size_t size) {
   Dispatch_nameFor(this, service, Rule_name(rule), wall, buf, size);
}

void Dispatch_nameFor(Dispatch* this, const char* service, const char* label, double wall, char* buf, size_t size) {
   uniqueName(this, this->dirFd, this->config->hostname, service, label, wall, buf, size);
}

void Dispatch_nameIn(int dirFd, const char* host, const char* service, const char* label, double wall, char* buf,
                     size_t size) {
   uniqueName(NULL, dirFd, host, service, label, wall, buf, size);
}

static Queued* enqueue(Dispatch* d, Incident* incident) {
   Util_growArray((void**)&d->queue, &d->queueCap, d->queueCount, sizeof(Queued));
   Queued* q = &d->queue[d->queueCount++];
   memset(q, 0, sizeof(*q));
   q->incident = *incident;
   memset(incident, 0, sizeof(*incident));
   return q;
}

void Dispatch_fire(Dispatch* this, Incident* incident) {
   char err[512];
   if (this->dirFd < 0 || !this->haveKey)
      WatchLog_write(WATCHLOG_ERROR, incident->service,
                     "incident %s kept in memory only (bundle_dir unusable): it is lost if the watcher stops before "
                     "its bundle is written",
                     incident->name);
   else if (Incident_save(incident, this->dirFd, this->key, err, sizeof(err)) < 0)
      WatchLog_write(
          WATCHLOG_ERROR, incident->service,
          "incident %s kept in memory only: %s; it is lost if the watcher stops before its bundle is written",
          incident->name, err);
   enqueue(this, incident);
}

/* ---- the bundle job */

static void report(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char* fmt, ...) {
   char buf[JOB_RESULT_MAX];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, sizeof(buf), fmt, ap);
   va_end(ap);
   if (n > 0 && write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
      return;
}

static void subjectOf(const WatchConfig* c, const Incident* in, const char* extra, char* buf, size_t size) {
   char host[256];
   Util_format(buf, size, "[stacktop] %s: %s %s fired%s", Printable_copy(host, sizeof(host), c->hostname), in->service,
               Rule_name(in->rule), extra);
}

/* The mail's text: the incident, what the bundle adds, where it is. */
static char* mailBody(const WatchConfig* c, const Incident* in, const char* extra) {
   char* body = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&body, &len);
   if (!f)
      return Util_xstrdup("");
   char host[256];
   fprintf(f, "stacktop watch on %s: %s %s fired\n\n", Printable_copy(host, sizeof(host), c->hostname), in->service,
           Rule_name(in->rule));
   Incident_describe(in, c->hostname, f);
   if (extra && extra[0])
      fprintf(f, "\n%s", extra);
   fclose(f);
   return body;
}

static const WatchService* serviceOf(const WatchConfig* c, const Incident* in) {
   return in->rule == RULE_SYSTEM_MEM_BELOW ? NULL : WatchConfig_service(c, in->service);
}

/* Records the bundle and starts the cooldown, in the shared state. */
static void recordBundle(int dirFd, const Incident* in, unsigned long long size, unsigned maxPerHour) {
   char err[512];
   int lock = WatchState_lock(dirFd, err, sizeof(err));
   if (lock < 0) {
      WatchLog_write(WATCHLOG_ERROR, in->service, "bundle %s not recorded: %s", in->name, err);
      return;
   }
   WatchState st;
   WatchState_init(&st, maxPerHour);
   if (WatchState_load(&st, dirFd, err, sizeof(err)) >= 0) {
      WatchState_addBundle(&st, in->name, size);
      Rules_bundled(WatchState_episode(&st, in->service, in->rule), WatchState_now());
      if (WatchState_save(&st, dirFd, err, sizeof(err)) < 0)
         WatchLog_write(WATCHLOG_ERROR, in->service, "bundle %s not recorded: %s", in->name, err);
   }
   WatchState_free(&st);
   WatchState_unlock(lock);
}

int Dispatch_writeBundle(const WatchConfig* c, const Sampler* sampler, const ResTrend* trend, const Incident* in,
                         DispatchBundle* out, char* err, size_t errSize) {
   memset(out, 0, sizeof(*out));
   Util_format(out->mailState, sizeof(out->mailState), "none");
   int dirFd = BundleDir_open(c->bundleDir, true, err, errSize);
   if (dirFd < 0)
      return -1;
   EvidenceRequest req = { .config = c, .incident = in, .sampler = sampler, .trend = trend, .dirFd = dirFd };
   if (Evidence_write(&req, &out->evidence, err, errSize) < 0) {
      close(dirFd);
      return -1;
   }
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   char why[768];
   size_t toCount;
   const char** to = WatchConfig_recipients(c, serviceOf(c, in), &toCount);
   if (toCount > 0 && BundleDir_key(dirFd, key, why, sizeof(why)) < 0) {
      Util_format(out->mailState, sizeof(out->mailState), "failed %s", why);
   } else if (toCount > 0) {
      char subject[512];
      subjectOf(c, in, "", subject, sizeof(subject));
      char* body = mailBody(c, in, out->evidence.mailText);
      if (MailQueue_add(dirFd, key, in->name, true, c->hostname, subject, body, to, toCount, why, sizeof(why)) < 0)
         Util_format(out->mailState, sizeof(out->mailState), "failed %s", why);
      else
         Util_format(out->mailState, sizeof(out->mailState), "queued");
      free(body);
   }
   free(to);
   out->mailState[strcspn(out->mailState, "\n")] = '\0';
   recordBundle(dirFd, in, out->evidence.size, (unsigned)c->maxBundlesPerHour);
   char file[NAME_MAX + 1];
   Incident_file(in, INCIDENT_SUFFIX, file, sizeof(file));
   BundleDir_remove(dirFd, file);
   close(dirFd);
   return 0;
}

/* The job's report: "ok SIZE NOTES", "mail STATE", then a line per dump and
 * per pprof endpoint that failed (service names have no newline: INI). */
static int runBundle(void* arg, int resultFd) {
   const BundleJob* job = arg;
   const Dispatch* d = job->d;
   char err[1024];
   DispatchBundle b;
   if (Dispatch_writeBundle(d->config, d->sampler, d->trend, job->incident, &b, err, sizeof(err)) < 0) {
      report(resultFd, "fail %s", err);
      return 1;
   }
   char text[JOB_RESULT_MAX];
   size_t used =
       (size_t)snprintf(text, sizeof(text), "ok %llu %zu\nmail %s\n", b.evidence.size, b.evidence.notes, b.mailState);
   for (size_t i = 0; i < b.evidence.dumpCount && used < sizeof(text); i++)
      used += (size_t)snprintf(text + used, sizeof(text) - used, "dump %d %d %.3f\n", b.evidence.dumps[i].pid,
                               b.evidence.dumps[i].ok, b.evidence.dumps[i].stoppedMs);
   for (size_t i = 0; i < b.evidence.pprofFailureCount && used < sizeof(text); i++)
      used += (size_t)snprintf(text + used, sizeof(text) - used, "pprof %s %.100s\n",
                               b.evidence.pprofFailures[i].endpoint, b.evidence.pprofFailures[i].service);
   report(resultFd, "%s", text);
   return 0;
}

/* Back from the report: the dumps and pprof failures (a line cut short is skipped). */
static void parseReport(const char* text, EvidenceResult* r) {
   memset(r, 0, sizeof(*r));
   for (const char* line = strchr(text, '\n'); line; line = strchr(line, '\n')) {
      line++;
      int pid, ok;
      double ms;
      char endpoint[32];
      int n = 0;
      const char* eol = strchr(line, '\n');
      if (!eol)
         break;
      if (sscanf(line, "dump %d %d %lf", &pid, &ok, &ms) == 3 && r->dumpCount < EVIDENCE_DUMPS_MAX)
         r->dumps[r->dumpCount++] = (EvidenceDump){ .pid = pid, .ok = ok != 0, .stoppedMs = ms };
      else if (sscanf(line, "pprof %31s %n", endpoint, &n) == 1 && n > 0 &&
               r->pprofFailureCount < EVIDENCE_PPROF_FAILURES_MAX) {
         EvidencePprofFailure* f = &r->pprofFailures[r->pprofFailureCount++];
         Util_format(f->endpoint, sizeof(f->endpoint), "%s", endpoint);
         Util_format(f->service, sizeof(f->service), "%.*s", (int)(eol - line - n), line + n);
      }
   }
}

static Queued* findQueued(Dispatch* d, const char* name) {
   for (size_t i = 0; i < d->queueCount; i++) {
      if (strcmp(d->queue[i].incident.name, name) == 0)
         return &d->queue[i];
   }
   return NULL;
}

static void dropQueued(Dispatch* d, Queued* q) {
   Incident_free(&q->incident);
   size_t i = (size_t)(q - d->queue);
   memmove(&d->queue[i], &d->queue[i + 1], (d->queueCount - i - 1) * sizeof(Queued));
   d->queueCount--;
}

/* The exec hook, in its own job. */
typedef struct HookJob_ {
   const WatchService* service;
   const Incident* incident;
   char bundle[PATH_MAX];
   double timeoutS;
} HookJob;

static int runHook(void* arg, int resultFd) {
   (void)resultFd;
   const HookJob* h = arg;
   const Incident* in = h->incident;
   char pid[32], value[64];
   Util_format(pid, sizeof(pid), "%d", (int)in->pid);
   Util_format(value, sizeof(value), "%.3f", in->value);
   const HookVar vars[] = {
      { .name = "STACKTOP_SERVICE", .value = h->service->name },
      { .name = "STACKTOP_RULE", .value = Rule_name(in->rule) },
      { .name = "STACKTOP_PID", .value = pid },
      { .name = "STACKTOP_VALUE", .value = value },
      { .name = "STACKTOP_BUNDLE", .value = h->bundle },
   };
   int rc = Hook_run(h->service->exec, vars, sizeof(vars) / sizeof(vars[0]), h->timeoutS, h->service->name);
   return rc < 0 ? 255 : rc;
}

static void startHook(Dispatch* d, const Incident* in) {
   const WatchService* s = serviceOf(d->config, in);
   if (!s || !s->exec)
      return;
   HookJob h = { .service = s, .incident = in, .timeoutS = d->config->execTimeoutS };
   Util_format(h.bundle, sizeof(h.bundle), "%s/%s%s", d->config->bundleDir, in->name, BUNDLE_SUFFIX);
   char label[300], err[512];
   Util_format(label, sizeof(label), "exec hook of %s", in->name);
   JobSpec spec = {
      .label = label, .kind = JOB_HOOK, .timeoutS = d->config->execTimeoutS + JOB_GRACE_S, .run = runHook, .arg = &h
   };
   if (Jobs_start(d->jobs, &spec, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_ERROR, s->name, "%s", err);
}

/* The "bundle could not be written" mail: straight to SMTP, since bundle_dir
 * may be the thing that is full. */
typedef struct NoticeJob_ {
   const WatchConfig* config;
   char subject[512];
   char* body;
   const char** to;
   size_t toCount;
} NoticeJob;

static int runNotice(void* arg, int resultFd) {
   (void)resultFd;
   const NoticeJob* n = arg;
   return MailQueue_sendNow(n->config, n->subject, n->body, n->to, n->toCount) == 0 ? 0 : 1;
}

static void sendNotice(Dispatch* d, Queued* q) {
   const WatchConfig* c = d->config;
   NoticeJob n = { .config = c };
   n.to = WatchConfig_recipients(c, serviceOf(c, &q->incident), &n.toCount);
   if (n.toCount == 0 || q->incident.noticeSent) {
      free(n.to);
      return;
   }
   char extra[1400];
   Util_format(extra, sizeof(extra),
               "THE BUNDLE COULD NOT BE WRITTEN: %s\n\nstacktop keeps the incident and tries again (attempt %u so far, "
               "next in %g s); a mail with the bundle follows once it exists.\n",
               q->incident.lastError ? q->incident.lastError : "unknown error", q->incident.attempts,
               MailQueue_backoff(c->mailRetryS, q->incident.attempts));
   subjectOf(c, &q->incident, " (bundle NOT written)", n.subject, sizeof(n.subject));
   n.body = mailBody(c, &q->incident, extra);
   char label[300], err[512];
   Util_format(label, sizeof(label), "notice mail about %s", q->incident.name);
   JobSpec spec = {
      .label = label, .kind = JOB_NOTICE, .timeoutS = c->mailTimeoutS + JOB_GRACE_S, .run = runNotice, .arg = &n
   };
   if (Jobs_start(d->jobs, &spec, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_ERROR, q->incident.service, "%s", err);
   else
      q->incident.noticeSent = true;
   free(n.body);
   free(n.to);
}

static bool pinned(void* ctx, const char* stem) {
   Dispatch* d = ctx;
   return MailQueue_isPending(d->dirFd, stem) || findQueued(d, stem) != NULL;
}

typedef struct PruneArgs_ {
   size_t removed;
} PruneArgs;

static void applyPrune(Dispatch* d, void* ctx) {
   PruneArgs* a = ctx;
   if (d->dirFd >= 0)
      a->removed = WatchState_prune(&d->state, d->dirFd, d->config->keepBundles, d->config->maxBundleDisk, pinned, d);
}

static void prune(Dispatch* d) {
   PruneArgs a = { 0 };
   if (d->dirFd < 0)
      return;
   transact(d, applyPrune, &a);
   if (a.removed)
      WatchLog_write(WATCHLOG_INFO, NULL, "removed %zu old bundle%s (keep_bundles/max_bundle_disk)", a.removed,
                     a.removed == 1 ? "" : "s");
}

static void bundleFailed(Dispatch* d, Queued* q, const char* why) {
   Incident* in = &q->incident;
   if (d->events.bundleFailed)
      d->events.bundleFailed(d->events.ctx, in);
   in->attempts++;
   Incident_setError(in, why);
   d->counts.bundlesFailed++;
   double delay = MailQueue_backoff(d->config->mailRetryS, in->attempts);
   q->retryAt = WatchState_now() + delay;
   WatchLog_write(WATCHLOG_ERROR, in->service, "bundle %s not written (attempt %u): %s; %s", in->name, in->attempts,
                  why, d->once ? "the incident is kept for the next run" : "the incident is kept, retrying");
   char err[512];
   if (d->dirFd >= 0 && d->haveKey && Incident_save(in, d->dirFd, d->key, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_WARNING, in->service, "incident %s not updated on disk: %s", in->name, err);
   sendNotice(d, q);
}

static void bundleDone(void* ctx, const JobOutcome* o) {
   BundleJob* job = ctx;
   Dispatch* d = job->d;
   char name[NAME_MAX + 1];
   Util_format(name, sizeof(name), "%s", job->name);
   free(job);
   d->bundleRunning = false;
   Queued* q = findQueued(d, name);
   if (!q)
      return;
   if (o->stopped)
      return; /* the watcher stops: NAME.incident stays for the next start */
   unsigned long long size;
   size_t notes;
   if (o->status == 0 && sscanf(o->result, "ok %llu %zu", &size, &notes) == 2) {
      const char* mail = strstr(o->result, "\nmail ");
      char mailState[700];
      Util_format(mailState, sizeof(mailState), "%s", mail ? mail + 6 : "none");
      mailState[strcspn(mailState, "\n")] = '\0';
      d->counts.bundlesWritten++;
      WatchLog_write(WATCHLOG_NOTICE, q->incident.service,
                     "bundle %s/%s%s written (%lld bytes, %zu item%s not collected; %.1f s, peak memory %ld KiB)",
                     d->config->bundleDir, name, BUNDLE_SUFFIX, (long long)size, notes, notes == 1 ? "" : "s",
                     o->seconds, o->maxRssKiB);
      if (strncmp(mailState, "failed ", 7) == 0)
         WatchLog_write(WATCHLOG_ERROR, q->incident.service, "mail about %s not queued: %s", name, mailState + 7);
      if (d->events.bundled) {
         EvidenceResult r;
         parseReport(o->result, &r);
         r.size = size;
         r.notes = notes;
         d->events.bundled(d->events.ctx, &q->incident, &r);
      }
      refreshState(d);
      startHook(d, &q->incident);
      dropQueued(d, q);
      d->mailCheck = true;
      prune(d);
      return;
   }
   char why[JOB_RESULT_MAX + 64];
   if (o->timedOut)
      Util_format(why, sizeof(why), "the bundle job was killed after bundle_timeout (%gs)", d->config->bundleTimeoutS);
   else if (o->signal)
      Util_format(why, sizeof(why), "the bundle job died of signal %d", o->signal);
   else
      Util_format(why, sizeof(why), "%s", strncmp(o->result, "fail ", 5) == 0 ? o->result + 5 : o->result);
   bundleFailed(d, q, why);
}

static Queued* nextDue(Dispatch* d) {
   double now = WatchState_now();
   for (size_t i = 0; i < d->queueCount; i++) {
      Queued* q = &d->queue[i];
      if (d->once && q->tried)
         continue;
      if (q->retryAt <= now)
         return q;
   }
   return NULL;
}

static void startBundle(Dispatch* d) {
   if (d->bundleRunning)
      return;
   Queued* q = nextDue(d);
   if (!q)
      return;
   q->tried = true;
   BundleJob* job = Util_xmalloc(sizeof(BundleJob));
   *job = (BundleJob){ .d = d, .incident = &q->incident };
   Util_format(job->name, sizeof(job->name), "%s", q->incident.name);
   char label[400], err[512];
   Util_format(label, sizeof(label), "bundle %s", q->incident.name);
   JobSpec spec = { .label = label,
                    .kind = JOB_BUNDLE,
                    .timeoutS = d->config->bundleTimeoutS,
                    .run = runBundle,
                    .arg = job,
                    .done = bundleDone,
                    .ctx = job };
   if (Jobs_start(d->jobs, &spec, err, sizeof(err)) < 0) {
      free(job);
      bundleFailed(d, q, err);
      return;
   }
   d->bundleRunning = true;
}

/* ---- the mail job */

typedef struct MailJob_ {
   Dispatch* d;
   char file[NAME_MAX + 1];
} MailJob;

static int runMail(void* arg, int resultFd) {
   const MailJob* m = arg;
   const WatchConfig* c = m->d->config;
   char err[768];
   int dirFd = BundleDir_open(c->bundleDir, false, err, sizeof(err));
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   if (dirFd < 0 || BundleDir_key(dirFd, key, err, sizeof(err)) < 0) {
      WatchLog_write(WATCHLOG_ERROR, NULL, "mail %s not sent: %s", m->file, err);
      return 1;
   }
   size_t waiting = MailQueue_attempt(c, dirFd, key, m->file);
   report(resultFd, "%zu", waiting);
   return 0;
}

static void mailDone(void* ctx, const JobOutcome* o) {
   MailJob* m = ctx;
   Dispatch* d = m->d;
   unsigned long waiting = 1;
   bool delivered =
       !o->timedOut && !o->stopped && o->status == 0 && sscanf(o->result, "%lu", &waiting) == 1 && waiting == 0;
   if (d->events.mailed && !o->stopped)
      d->events.mailed(d->events.ctx, delivered);
   if (o->timedOut)
      WatchLog_write(WATCHLOG_WARNING, NULL,
                     "mail %s: the attempt did not end within mail_timeout (%gs); retried later", m->file,
                     d->config->mailTimeoutS);
   free(m);
   d->mailRunning = false;
   d->mailCheck = true;
}

static bool flushedAlready(const Dispatch* d, const char* file) {
   for (size_t i = 0; i < d->flushedCount; i++) {
      if (strcmp(d->flushed[i], file) == 0)
         return true;
   }
   return false;
}

/* The due mail: in the start-up flush, every entry once; then by its time. */
static bool pickMail(Dispatch* d, char* file, size_t size) {
   MailQueueScan scan;
   MailQueue_scan(d->dirFd, d->key, Util_wallSeconds(), false, &scan);
   d->mailPending = scan.pending;
   d->mailNextWall = scan.nextWall;
   if (d->flushing) {
      size_t count;
      char** names = BundleDir_list(d->dirFd, MAILQUEUE_SUFFIX, &count);
      bool found = false;
      for (size_t i = 0; i < count; i++) {
         if (!found && !flushedAlready(d, names[i])) {
            d->flushed = Util_xrealloc(d->flushed, (d->flushedCount + 1) * sizeof(char*));
            d->flushed[d->flushedCount++] = Util_xstrdup(names[i]);
            Util_format(file, size, "%s", names[i]);
            found = true;
         }
         free(names[i]);
      }
      free(names);
      if (found)
         return true;
      d->flushing = false;
   }
   if (!scan.due[0])
      return false;
   Util_format(file, size, "%s", scan.due);
   return true;
}

static void startMail(Dispatch* d) {
   if (d->mailRunning)
      return;
   if (d->watchingBusy) /* the mail queue is `stacktop bundle`'s for a moment: no mail sent twice */
      return;
   if (d->dirFd < 0 || !d->haveKey || !WatchConfig_mails(d->config)) {
      d->mailCheck = false; /* nothing can be sent now; the next poll that can will look */
      return;
   }
   bool due = d->mailCheck || (d->mailNextWall > 0 && Util_wallSeconds() >= d->mailNextWall);
   if (!due)
      return;
   d->mailCheck = false;
   MailJob* m = Util_xcalloc(1, sizeof(MailJob));
   m->d = d;
   if (!pickMail(d, m->file, sizeof(m->file))) {
      free(m);
      return;
   }
   char label[400], err[512];
   Util_format(label, sizeof(label), "mail %s", m->file);
   JobSpec spec = { .label = label,
                    .kind = JOB_MAIL,
                    .timeoutS = d->config->mailTimeoutS + JOB_GRACE_S,
                    .run = runMail,
                    .arg = m,
                    .done = mailDone,
                    .ctx = m };
   if (Jobs_start(d->jobs, &spec, err, sizeof(err)) < 0) {
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s", err);
      free(m);
      return;
   }
   d->mailRunning = true;
}

/* ---- start-up: what a killed watcher left */

static void recoverIncident(Dispatch* d, const char* file) {
   Incident in;
   char err[600];
   RecordStatus st = Incident_load(&in, d->dirFd, file, d->key, err, sizeof(err));
   if (st == RECORD_FORGED || st == RECORD_MALFORMED) {
      if (Record_quarantine(d->dirFd, file) == 0)
         WatchLog_write(WATCHLOG_WARNING, NULL, "%s; not bundled, moved to %s.quarantined", err, file);
      return;
   }
   if (st != RECORD_OK)
      return;
   in.recovered = true;
   WatchLog_write(WATCHLOG_NOTICE, in.service,
                  "incident %s (%s) was not bundled before the watcher stopped: bundling it now", in.name,
                  Rule_name(in.rule));
   enqueue(d, &in);
}

/* An incident of this run already queued under that file name. */
static bool findQueuedFile(Dispatch* d, const char* file) {
   for (size_t i = 0; i < d->queueCount; i++) {
      char own[NAME_MAX + 1];
      Incident_file(&d->queue[i].incident, INCIDENT_SUFFIX, own, sizeof(own));
      if (strcmp(own, file) == 0)
         return true;
   }
   return false;
}

static void recover(Dispatch* d) {
   size_t removed = Bundle_removeLeftovers(d->dirFd);
   if (removed)
      WatchLog_write(WATCHLOG_NOTICE, NULL, "removed %zu unfinished temporary file%s of a watcher that was stopped",
                     removed, removed == 1 ? "" : "s");
   size_t n;
   char** names = BundleDir_list(d->dirFd, INCIDENT_SUFFIX, &n);
   for (size_t i = 0; i < n; i++) {
      if (!findQueuedFile(d, names[i]))
         recoverIncident(d, names[i]);
      free(names[i]);
   }
   free(names);
}

/* Pending flags whose incident no longer exists (a crash between the bundle
 * and the state update, or a lost in-memory incident) would block the rule
 * for good. */
static void applyClearStale(Dispatch* d, void* ctx) {
   (void)ctx;
   for (size_t i = 0; i < d->state.episodeCount; i++) {
      WatchStateEpisode* e = &d->state.episodes[i];
      if (!e->episode.pending)
         continue;
      bool queued = false;
      for (size_t k = 0; k < d->queueCount && !queued; k++)
         queued = d->queue[k].incident.rule == e->rule && strcmp(d->queue[k].incident.service, e->service) == 0;
      if (!queued)
         Rules_dropped(&e->episode);
   }
}

Dispatch* Dispatch_new(const WatchConfig* config, const Sampler* sampler, const ResTrend* trend, bool once, char* err,
                       size_t errSize) {
   Dispatch* d = Util_xcalloc(1, sizeof(Dispatch));
   d->config = config;
   d->sampler = sampler;
   d->trend = trend;
   d->once = once;
   d->dirFd = BundleDir_open(config->bundleDir, true, err, errSize);
   if (d->dirFd < 0) {
      free(d);
      return NULL;
   }
   if (BundleDir_key(d->dirFd, d->key, err, errSize) < 0) {
      close(d->dirFd);
      free(d);
      return NULL;
   }
   d->haveKey = true;
   d->watchingFd = -1;
   holdWatching(d);
   d->bundleDir = Util_xstrdup(config->bundleDir);
   d->jobs = Jobs_new();
   WatchState_init(&d->state, (unsigned)config->maxBundlesPerHour);
   recover(d);
   transact(d, applyClearStale, NULL);
   d->flushing = true;
   d->mailCheck = true;
   return d;
}

void Dispatch_reconfigure(Dispatch* this, const WatchConfig* config, const Sampler* sampler, const ResTrend* trend) {
   bool moved = strcmp(config->bundleDir, this->bundleDir) != 0;
   free(this->bundleDir);
   this->bundleDir = Util_xstrdup(config->bundleDir);
   this->config = config;
   this->sampler = sampler;
   this->trend = trend;
   this->state.cap.maxPerHour = (unsigned)config->maxBundlesPerHour;
   if (moved) {
      releaseWatching(this);
      this->haveKey = false;
      this->stamp = (WatchStateStamp){ 0 };
      reopenDir(this);
      if (this->dirFd >= 0)
         recover(this);
      this->flushing = true;
   }
   this->mailCheck = true;
}

void Dispatch_closeInChildren(Dispatch* this, int fd) {
   Jobs_closeInChildren(this->jobs, fd);
}

void Dispatch_onChild(Dispatch* this, void (*fn)(void* ctx), void* ctx) {
   Jobs_onChild(this->jobs, fn, ctx);
}

void Dispatch_setEvents(Dispatch* this, const DispatchEvents* events) {
   this->events = events ? *events : (DispatchEvents){ 0 };
}

void Dispatch_poll(Dispatch* this) {
   Jobs_poll(this->jobs);
   reopenDir(this);
   holdWatching(this);
   refreshState(this);
   startBundle(this);
   startMail(this);
}

double Dispatch_nextWake(const Dispatch* this) {
   double next = Jobs_nextDeadline(this->jobs);
   double mono = Util_monotonicSeconds(), boot = WatchState_now();
   for (size_t i = 0; !this->bundleRunning && i < this->queueCount; i++) {
      if (this->once && this->queue[i].tried)
         continue;
      double at = mono + (this->queue[i].retryAt - boot);
      if (next == 0 || at < next)
         next = at;
   }
   if (!this->mailRunning && this->mailNextWall > 0) {
      double at = mono + (this->mailNextWall - Util_wallSeconds());
      if (next == 0 || at < next)
         next = at;
   }
   if (!this->mailRunning && this->mailCheck && (next == 0 || mono < next))
      next = mono;
   return next;
}

bool Dispatch_idle(const Dispatch* this) {
   if (Jobs_running(this->jobs, -1) > 0 || this->mailCheck)
      return false;
   double now = WatchState_now();
   for (size_t i = 0; i < this->queueCount; i++) {
      const Queued* q = &this->queue[i];
      if (this->once ? !q->tried : q->retryAt <= now)
         return false;
   }
   return true;
}

void Dispatch_stop(Dispatch* this, double graceS) {
   Jobs_stopAll(this->jobs, graceS);
}

DispatchCounts Dispatch_counts(const Dispatch* this) {
   DispatchCounts c = this->counts;
   c.incidentsPending = this->queueCount;
   c.mailsPending = this->mailPending;
   if (this->dirFd >= 0 && this->haveKey) {
      MailQueueScan scan;
      MailQueue_scan(this->dirFd, this->key, Util_wallSeconds(), false, &scan);
      c.mailsPending = scan.pending;
   }
   return c;
}

size_t Dispatch_mailPending(const Dispatch* this) {
   return this->mailPending;
}

unsigned long long Dispatch_bundleBytes(const Dispatch* this) {
   unsigned long long total = 0;
   for (size_t i = 0; i < this->state.bundleCount; i++)
      total += this->state.bundles[i].size;
   return total;
}

void Dispatch_free(Dispatch* this) {
   if (!this)
      return;
   Jobs_free(this->jobs);
   releaseWatching(this);
   for (size_t i = 0; i < this->queueCount; i++)
      Incident_free(&this->queue[i].incident);
   free(this->queue);
   for (size_t i = 0; i < this->flushedCount; i++)
      free(this->flushed[i]);
   free(this->flushed);
   WatchState_free(&this->state);
   if (this->dirFd >= 0)
      close(this->dirFd);
   free(this->bundleDir);
   free(this);
}
