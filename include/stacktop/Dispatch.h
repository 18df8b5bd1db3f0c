#ifndef STACKTOP_DISPATCH_H
#define STACKTOP_DISPATCH_H
/* What happens once a rule fires, kept off the sampling loop.
 *
 * On the loop (all quick, bounded local file operations):
 * - Dispatch_step / Dispatch_event decide per (service, rule) with Rules on
 *   the episode persisted in WatchState (shared, locked), so cooldown, cap
 *   and episodes survive restarts and are shared with other stacktop
 *   processes on the same bundle_dir;
 * - Dispatch_fire takes an Incident, names it, writes NAME.incident and
 *   queues it.
 * In background jobs (Jobs.h), one bundle at a time, one mail at a time:
 * - the bundle job collects the evidence (Evidence.h) into NAME.tar.gz,
 *   queues the mail, records the bundle in WatchState (the cooldown starts
 *   now: the evidence exists) and removes NAME.incident;
 * - a bundle that could not be written is reported (log, and a mail without
 *   attachment saying why, once per incident) and retried with the mail_retry
 *   backoff; the incident stays on disk until it succeeds;
 * - then the service's exec hook, and mail delivery (MailQueue.h), pending
 *   mails of earlier runs included;
 * - retention (WatchState_prune) after each bundle.
 * At start the leftovers of a killed watcher are dealt with: temporary files
 * removed, NAME.incident files bundled (recovered), pending flags of
 * incidents that are gone cleared, pending mail sent in the background. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Evidence.h"
#include "stacktop/Incident.h"
#include "stacktop/ResTrend.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"
#include "stacktop/WatchConfig.h"
#include "stacktop/WatchState.h"

typedef struct Dispatch_ Dispatch;

typedef struct DispatchCounts_ {
   unsigned bundlesWritten;
   unsigned bundlesFailed;  /* attempts that failed */
   size_t incidentsPending; /* not bundled yet */
   size_t mailsPending;
} DispatchCounts;

/* What the watcher's metrics count, reported as it happens (on the loop). */
typedef struct DispatchEvents_ {
   void* ctx;
   /* a bundle exists; result holds its dumps and the pprof endpoints that failed */
   void (*bundled)(void* ctx, const Incident* incident, const EvidenceResult* result);
   void (*bundleFailed)(void* ctx, const Incident* incident); /* an attempt failed (retried) */
   void (*mailed)(void* ctx, bool delivered);                 /* a delivery attempt ended */
} DispatchEvents;

/* Opens bundle_dir (creating it), its key and state, cleans up after a killed
 * watcher and queues what it left. once: a --once run (each incident is tried
 * once). Returns NULL with a message when bundle_dir cannot be used. */
Dispatch* Dispatch_new(const WatchConfig* config, const Sampler* sampler, const ResTrend* trend, bool once, char* err,
                       size_t errSize);
/* Stops every job (see Dispatch_stop first) and frees. */
void Dispatch_free(Dispatch* this);
/* After a reload: the new config, sampler and trend. A changed bundle_dir is
 * opened at once (its leftovers recovered, its mail sent). */
void Dispatch_reconfigure(Dispatch* this, const WatchConfig* config, const Sampler* sampler, const ResTrend* trend);
/* An fd children must not inherit (the loop's self-pipe). */
void Dispatch_closeInChildren(Dispatch* this, int fd);
/* A function each background job runs first, to close what it must not
 * keep (the listeners' sockets). */
void Dispatch_onChild(Dispatch* this, void (*fn)(void* ctx), void* ctx);
/* Where events go (copied; NULL: nowhere). */
void Dispatch_setEvents(Dispatch* this, const DispatchEvents* events);

/* ---- decisions, on the sampling loop */
RuleAction Dispatch_step(Dispatch* this, const char* service, RuleKind rule, bool failingNow);
RuleAction Dispatch_event(Dispatch* this, const char* service, RuleKind rule);
/* A bundle asked for from outside (an alert, `stacktop bundle`): honours the
 * cooldown and the hourly cap like a rule (its episode is (service,
 * on_demand)), and is refused while any bundle of the service is pending. */
RuleAction Dispatch_request(Dispatch* this, const char* service);
/* The same decision on a state the caller loaded and locked (`stacktop bundle`). */
RuleAction Dispatch_decideRequest(WatchState* state, const char* service, double now, double cooldownS);
/* Whether bundle_dir can take an incident now; else why not in why. */
bool Dispatch_usable(const Dispatch* this, char* why, size_t whySize);
/* The checked bundle_dir (-1 while unusable); valid until the next Dispatch_poll. */
int Dispatch_dirFd(const Dispatch* this);
/* A unique NAME for an incident of (service, rule) at wall time. */
void Dispatch_name(Dispatch* this, const char* service, RuleKind rule, double wall, char* buf, size_t size);
/* The same with another label than the rule's name ("alert_ServiceCpuHigh"). */
void Dispatch_nameFor(Dispatch* this, const char* service, const char* label, double wall, char* buf, size_t size);
/* The same without a watcher (`stacktop bundle`): unique among dirFd's files. */
void Dispatch_nameIn(int dirFd, const char* host, const char* service, const char* label, double wall, char* buf,
                     size_t size);
/* Every running watcher holds a shared lock on bundle_dir/.watching. When
 * none does, returns the fd of an exclusive lock (close it to release): the
 * caller may send the mails itself, no watcher starts sending meanwhile.
 * -1 while a watcher runs (it sends them). */
int Dispatch_lockUnwatched(int dirFd);
/* Queues an incident (ownership taken: it is moved, *incident left empty). */
void Dispatch_fire(Dispatch* this, Incident* incident);

/* ---- the bundle itself */
typedef struct DispatchBundle_ {
   EvidenceResult evidence;
   char mailState[700]; /* "none", "queued" or "failed WHY" */
} DispatchBundle;
/* Writes the bundle of an incident in the calling process (the bundle job,
 * `stacktop bundle`): the evidence into NAME.tar.gz, its mail queued, the
 * bundle recorded in WatchState (its cooldown starts), NAME.incident
 * removed. Returns 0, or -1 with a message when the bundle was not written. */
int Dispatch_writeBundle(const WatchConfig* config, const Sampler* sampler, const ResTrend* trend,
                         const Incident* incident, DispatchBundle* out, char* err, size_t errSize);

/* ---- the background work */
/* Reaps and starts jobs, retries, mail. Call on every wake-up of the loop. */
void Dispatch_poll(Dispatch* this);
/* When the loop must wake up next for Dispatch (monotonic), 0 if no need. */
double Dispatch_nextWake(const Dispatch* this);
/* Nothing running, nothing due now (in a --once run: every incident tried). */
bool Dispatch_idle(const Dispatch* this);
/* The watcher stops: running jobs get graceS, then are killed; incidents
 * not yet bundled stay on disk for the next start. */
void Dispatch_stop(Dispatch* this, double graceS);
DispatchCounts Dispatch_counts(const Dispatch* this);
/* Cheap figures for every sample's metrics: the mails waiting at the last
 * look at the queue, and the size of the bundles recorded in bundle_dir. */
size_t Dispatch_mailPending(const Dispatch* this);
unsigned long long Dispatch_bundleBytes(const Dispatch* this);

#endif
