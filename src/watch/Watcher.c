/* `stacktop watch`: options, signals, the sampling loop and rule evaluation
 * per service. What happens when a rule fires is Dispatch's (off the loop);
 * the metrics are the Exporter's, the HTTP listeners the Listeners'. */
#include "stacktop/Watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/AlertReceiver.h"
#include "stacktop/ArchiveApi.h"
#include "stacktop/Cli.h"
#include "stacktop/CurlApi.h"
#include "stacktop/Dispatch.h"
#include "stacktop/Exporter.h"
#include "stacktop/Incident.h"
#include "stacktop/JanssonApi.h"
#include "stacktop/Listeners.h"
#include "stacktop/MhdApi.h"
#include "stacktop/Printable.h"
#include "stacktop/ResTrend.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"
#include "stacktop/Signals.h"
#include "stacktop/Util.h"
#include "stacktop/WatchConfig.h"
#include "stacktop/WatchLog.h"

/* After SIGTERM, running jobs get this long to finish before they are
 * killed (an unfinished bundle is redone at the next start). */
#define SHUTDOWN_GRACE_S 2.0
/* ResTrend slices: 12 intervals, at most a minute. */
#define TREND_INTERVALS 12

/* What signal handlers may touch: flags, and the self-pipe that wakes the
 * loop out of poll(2) (no wake-up is lost between a check and the wait). */
typedef struct WatchSignals_ {
   volatile sig_atomic_t stop;
   volatile sig_atomic_t reload;
   int wakeWrite;
} WatchSignals;

static WatchSignals signals = { .wakeWrite = -1 };

typedef struct WatchOptions_ {
   const char* configPath;
   bool once;
   bool checkConfig;
   bool foreground;
   bool verbose;
   bool help;
} WatchOptions;

/* Per-process rule memory, keyed by pid and start time (pids are reused). */
typedef struct Tracked_ {
   pid_t pid;
   unsigned long long startTicks;
   RuleProcessState rules[RULE_KIND_COUNT];
} Tracked;

/* A service's memory across samples; kept by name across reloads. */
typedef struct ServiceState_ {
   char* name;
   Tracked* tracked;
   size_t trackedCount;
   Tracked* lastSeen; /* restart: the processes of the previous sample */
   size_t lastSeenCount;
   bool seen; /* evaluated at least once */
   /* This sample's selection (also for the system rule). */
   const ProcessSample** current;
   size_t currentCount;
   /* What was last logged about the match, to log changes only. */
   bool matchedAny;
   char pidfileProblem[512];
   pid_t replaced[MATCH_REPLACED_MAX];
   size_t replacedCount;
   bool failing[RULE_KIND_COUNT]; /* for the episode count of the metrics */
} ServiceState;

/* The watcher's one context. */
typedef struct Watcher_ {
   WatchOptions options;
   WatchConfig config;
   Sampler* sampler;
   size_t historyCapacity;
   ResTrend* trend; /* only with system_mem_available_below */
   Dispatch* dispatch;
   ServiceState* services; /* parallel to config.services */
   RuleProcessState systemState;
   bool systemFailing;
   int wakeRead;
   Exporter* exporter;        /* NULL without metrics_listen and metrics_textfile */
   Listeners* listeners;      /* metrics_listen, alert_listen */
   AlertTarget alertTarget;   /* what the Alertmanager receiver asks of the watcher */
   char textfileProblem[512]; /* the last metrics_textfile error, logged once */
} Watcher;

/* What one rule found across a service's processes in one sample. */
typedef struct Finding_ {
   bool failing;
   double value; /* worst value among the failing processes */
   pid_t pid;
   char comm[64];
   bool known;   /* some process could be judged */
   double worst; /* the highest value of those (for the metrics) */
} Finding;

/* A rule that acts, and what it saw. */
typedef struct Fire_ {
   const char* serviceName;
   RuleKind rule;
   const RuleSpec* spec;
   double value;
   pid_t pid; /* the process that fired, 0 for none */
   const char* reason;
   const ProcessSample** procs;
   size_t procCount;
   const pid_t* gone;
   size_t goneCount;
} Fire;

static int onConfig(void* target, const char* v, char* err, size_t errSize) {
   (void)err, (void)errSize;
   ((WatchOptions*)target)->configPath = v;
   return 0;
}

static int onOnce(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((WatchOptions*)target)->once = true;
   return 0;
}

static int onCheckConfig(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((WatchOptions*)target)->checkConfig = true;
   return 0;
}

static int onForeground(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((WatchOptions*)target)->foreground = true;
   return 0;
}

static int onVerbose(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((WatchOptions*)target)->verbose = true;
   return 0;
}

static int onHelp(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((WatchOptions*)target)->help = true;
   return 0;
}

static const CliOption options[] = {
   { .longName = "config",
     .shortName = 'c',
     .valueName = "FILE",
     .help = "the watch config (see stacktop.conf(5))",
     .handle = onConfig },
   { .longName = "once",
     .help = "sample until every rule had its window, fire what fires, wait for the bundles and mails, exit "
             "(1 if a bundle could not be written)",
     .handle = onOnce },
   { .longName = "check-config",
     .help = "validate FILE and print the resolved services and rules",
     .handle = onCheckConfig },
   { .longName = "foreground", .help = "log to stderr only (otherwise also to syslog)", .handle = onForeground },
   { .longName = "verbose", .shortName = 'v', .help = "also log every sample's findings", .handle = onVerbose },
   { .longName = "help", .shortName = 'h', .help = "this help", .handle = onHelp },
};

static const CliCommand command = {
   .name = "watch",
   .synopsis = "watch -c FILE [options]",
   .summary = "Watches the services named in FILE; when a rule fires, writes a diagnostic bundle and mails it.",
   .options = options,
   .optionCount = sizeof(options) / sizeof(options[0]),
   .footer = "SIGHUP reloads FILE (a bad one is logged and the running config kept); SIGTERM stops.",
   .stopAtOperand = true,
   .manPage = "doc/stacktop.conf.5",
};

const CliCommand* Watch_command(void) {
   return &command;
}

static int parseOptions(WatchOptions* o, int argc, char** argv) {
   memset(o, 0, sizeof(*o));
   char err[256];
   int operand;
   if (Cli_parse(&command, o, argc, argv, &operand, err, sizeof(err)) != 0) {
      Util_error("watch: %s (see 'stacktop watch --help')", err);
      return -1;
   }
   if (o->help)
      return 0;
   if (operand < argc) {
      Util_error("watch: unexpected argument '%s' (see 'stacktop watch --help')", argv[operand]);
      return -1;
   }
   if (!o->configPath) {
      Util_error("watch: no config file; expected -c FILE (see stacktop.conf(5))");
      return -1;
   }
   return 0;
}

/* ---- signals */

static void wake(void) {
   int saved = errno;
   char b = 1;
   if (signals.wakeWrite >= 0 && write(signals.wakeWrite, &b, 1) < 0)
      (void)0; /* full pipe: a wake-up is pending anyway */
   errno = saved;
}

static void onSignal(int sig) {
   if (sig == SIGHUP)
      signals.reload = 1;
   else if (sig != SIGCHLD)
      signals.stop = 1;
   wake();
}

static int installSignals(Watcher* w) {
   int fds[2];
   if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      Util_error("watch: cannot create a pipe: %s", strerror(errno));
      return -1;
   }
   w->wakeRead = fds[0];
   signals.wakeWrite = fds[1];
   static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
   Signals_install(handled, SIGNALS_COUNT(handled), onSignal, SA_RESTART, false);
   Signals_ignorePipe();
   return 0;
}

/* Sleeps until the monotonic deadline, a stop or a reload, keeping the
 * background work moving whenever it needs to. */
static void waitUntil(Watcher* w, double deadline) {
   while (!signals.stop && !signals.reload) {
      double now = Util_monotonicSeconds();
      if (now >= deadline)
         return;
      double until = deadline, wakeAt = Dispatch_nextWake(w->dispatch), serveAt = Listeners_nextWake(w->listeners);
      if (wakeAt > 0 && wakeAt < until)
         until = wakeAt;
      if (serveAt > 0 && serveAt < until)
         until = serveAt;
      double left = until - now;
      struct pollfd p[1 + LISTENERS_MAX] = { { .fd = w->wakeRead, .events = POLLIN } };
      nfds_t count = 1 + (nfds_t)Listeners_pollFds(w->listeners, p + 1, LISTENERS_MAX);
      int rc = left > 0 ? poll(p, count, (int)ceil(left * 1000)) : 0;
      if (rc > 0 && p[0].revents) {
         char buf[64];
         while (read(w->wakeRead, buf, sizeof(buf)) > 0)
            ;
      }
      /* libmicrohttpd wants a run after every wait while it has connections (their timeouts) */
      Listeners_run(w->listeners);
      Dispatch_poll(w->dispatch);
   }
}

/* ---- per-process inputs */

/* Open fds as % of the soft RLIMIT_NOFILE from /proc/PID/limits; -1 unknown. */
static double fdsPercent(pid_t pid) {
   char path[64], buf[4096];
   Util_format(path, sizeof(path), "/proc/%d/limits", (int)pid);
   if (Util_readFile(path, buf, sizeof(buf)) < 0)
      return -1;
   const char* line = strstr(buf, "Max open files");
   unsigned long soft;
   if (!line || sscanf(line + strlen("Max open files"), " %lu", &soft) != 1 || soft == 0)
      return -1;
   Util_format(path, sizeof(path), "/proc/%d/fd", (int)pid);
   DIR* d = opendir(path);
   if (!d)
      return -1;
   unsigned long n = 0;
   struct dirent* e;
   while ((e = readdir(d)))
      n += e->d_name[0] != '.';
   closedir(d);
   return 100.0 * (double)n / (double)soft;
}

static Tracked* findTracked(Tracked* list, size_t count, const ProcessSample* p) {
   for (size_t i = 0; i < count; i++) {
      if (list[i].pid == p->pid && list[i].startTicks == p->startTicks)
         return &list[i];
   }
   return NULL;
}

/* Carries rule memory over to this sample's processes; new ones start fresh. */
static void retrack(ServiceState* st, const ProcessSample** procs, size_t n) {
   Tracked* next = Util_xcalloc(n ? n : 1, sizeof(Tracked));
   for (size_t i = 0; i < n; i++) {
      Tracked* old = findTracked(st->tracked, st->trackedCount, procs[i]);
      if (old)
         next[i] = *old;
      next[i].pid = procs[i]->pid;
      next[i].startTicks = procs[i]->startTicks;
   }
   free(st->tracked);
   st->tracked = next;
   st->trackedCount = n;
}

/* ---- acting on decisions */

static void fire(Watcher* w, const Fire* f) {
   char name[300], threshold[128];
   double wall = Util_wallSeconds();
   Dispatch_name(w->dispatch, f->serviceName, f->rule, wall, name, sizeof(name));
   WatchConfig_formatRule(f->rule, f->spec, threshold, sizeof(threshold));
   Incident in;
   Incident_init(&in, name, f->serviceName, f->rule, threshold, f->value, f->reason, wall);
   in.pid = f->pid;
   for (size_t i = 0; i < f->procCount; i++)
      Incident_addProcess(&in, f->procs[i]);
   for (size_t i = 0; i < f->goneCount; i++)
      Incident_addGone(&in, f->gone[i]);
   WatchLog_write(WATCHLOG_NOTICE, f->serviceName, "%s fired: %s; writing a bundle", Rule_name(f->rule), in.reason);
   Dispatch_fire(w->dispatch, &in);
}

/* Acts on what Rules decided. */
static void act(Watcher* w, RuleAction action, const Fire* f) {
   if (action == RULE_ACTION_SUPPRESS_COOLDOWN || action == RULE_ACTION_SUPPRESS_PENDING ||
       action == RULE_ACTION_SUPPRESS_CAP)
      Exporter_suppressed(w->exporter, f->serviceName, f->rule, action);
   switch (action) {
   case RULE_ACTION_FIRE: fire(w, f); break;
   case RULE_ACTION_SUPPRESS_COOLDOWN:
      WatchLog_write(WATCHLOG_INFO, f->serviceName, "%s failing again (%s) inside the cooldown (%gs): no bundle",
                     Rule_name(f->rule), f->reason, w->config.cooldownS);
      break;
   case RULE_ACTION_SUPPRESS_PENDING:
      WatchLog_write(WATCHLOG_INFO, f->serviceName,
                     "%s failing again (%s) while the bundle of its last incident is not written yet: no second bundle",
                     Rule_name(f->rule), f->reason);
      break;
   case RULE_ACTION_SUPPRESS_CAP:
      WatchLog_write(WATCHLOG_WARNING, f->serviceName,
                     "%s failing (%s) but max_bundles_per_hour (%lu) is reached: no bundle", Rule_name(f->rule),
                     f->reason, w->config.maxBundlesPerHour);
      break;
   case RULE_ACTION_RECOVERED:
      WatchLog_write(WATCHLOG_NOTICE, f->serviceName, "%s recovered", Rule_name(f->rule));
      break;
   case RULE_ACTION_NONE: break;
   }
}

/* ---- evaluation per sample */

static Finding evaluateRule(Watcher* w, RuleKind kind, const RuleSpec* spec, ServiceState* st,
                            const ProcessSample** procs, size_t n) {
   Finding f = { 0 };
   for (size_t i = 0; i < n; i++) {
      RuleInput in = { .history = procs[i]->history,
                       .intervalS = w->config.intervalS,
                       .fdsPct = kind == RULE_FDS_ABOVE ? fdsPercent(procs[i]->pid) : -1 };
      double value = 0;
      RuleVerdict v = Rules_evaluate(kind, spec, &in, &st->tracked[i].rules[kind], &value);
      if (v != RULE_NOT_READY) {
         WatchLog_write(WATCHLOG_DEBUG, NULL, "pid %d %s = %.2f%s", (int)procs[i]->pid, Rule_name(kind), value,
                        v == RULE_OVER ? " (over)" : "");
         f.worst = f.known && f.worst > value ? f.worst : value;
         f.known = true;
      }
      if (v == RULE_OVER && (!f.failing || value > f.value)) {
         f.failing = true;
         f.value = value;
         f.pid = procs[i]->pid;
         Printable_copy(f.comm, sizeof(f.comm), procs[i]->comm);
      }
   }
   return f;
}

static void checkRestart(Watcher* w, const WatchService* svc, ServiceState* st, const ProcessSample** procs, size_t n) {
   pid_t* gone = Util_xcalloc(st->lastSeenCount ? st->lastSeenCount : 1, sizeof(pid_t));
   size_t goneCount = 0;
   for (size_t i = 0; i < st->lastSeenCount; i++) {
      bool present = false;
      for (size_t j = 0; j < n && !present; j++)
         present = procs[j]->pid == st->lastSeen[i].pid && procs[j]->startTicks == st->lastSeen[i].startTicks;
      if (!present)
         gone[goneCount++] = st->lastSeen[i].pid;
   }
   free(st->lastSeen);
   st->lastSeen = Util_xcalloc(n ? n : 1, sizeof(Tracked));
   for (size_t i = 0; i < n; i++)
      st->lastSeen[i] = (Tracked){ .pid = procs[i]->pid, .startTicks = procs[i]->startTicks };
   st->lastSeenCount = n;
   if (goneCount == 0) {
      free(gone);
      return;
   }
   char reason[256];
   if (n == 0)
      Util_format(reason, sizeof(reason), "pid %d is gone and no process matches any more", (int)gone[0]);
   else
      Util_format(reason, sizeof(reason), "pid %d is gone; now pid %d", (int)gone[0], (int)procs[0]->pid);
   Fire f = { .serviceName = svc->name,
              .rule = RULE_RESTART,
              .spec = &svc->rules[RULE_RESTART],
              .pid = n ? procs[0]->pid : 0,
              .reason = reason,
              .procs = procs,
              .procCount = n,
              .gone = gone,
              .goneCount = goneCount };
   Exporter_episode(w->exporter, svc->name, RULE_RESTART);
   act(w, Dispatch_event(w->dispatch, svc->name, RULE_RESTART), &f);
   free(gone);
}

static bool wasReplaced(const ServiceState* st, pid_t pid) {
   for (size_t i = 0; i < st->replacedCount; i++) {
      if (st->replaced[i] == pid)
         return true;
   }
   return false;
}

/* Logs what changed about the match: none any more, some again, a pidfile
 * that cannot be used, a binary replaced on disk. Once per change. */
static void reportMatch(const WatchService* svc, ServiceState* st, size_t n, const MatchStatus* status) {
   char m[300], users[300];
   Matcher_describe(&svc->match, m, sizeof(m));
   Matcher_describeUsers(&svc->match, users, sizeof(users));
   if (strcmp(status->pidfileProblem, st->pidfileProblem) != 0 && status->pidfileProblem[0])
      WatchLog_write(WATCHLOG_WARNING, svc->name, "%s", status->pidfileProblem);
   Util_format(st->pidfileProblem, sizeof(st->pidfileProblem), "%s", status->pidfileProblem);
   if (n == 0 && (st->matchedAny || !st->seen))
      WatchLog_write(WATCHLOG_WARNING, svc->name, "no process matches %s (user %s)%s", m, users,
                     st->seen ? " any more" : "");
   else if (n > 0 && !st->matchedAny)
      WatchLog_write(WATCHLOG_NOTICE, svc->name, "%zu process%s match%s %s (user %s)%s", n, n == 1 ? "" : "es",
                     n == 1 ? "es" : "", m, users, st->seen ? " again" : "");
   st->matchedAny = n > 0;
   for (size_t i = 0; i < status->replacedCount; i++) {
      if (!wasReplaced(st, status->replaced[i]))
         WatchLog_write(WATCHLOG_NOTICE, svc->name,
                        "pid %d runs %s (deleted): its binary was replaced on disk since it started (an upgrade?); "
                        "still watched as %s",
                        (int)status->replaced[i], svc->match.text, m);
   }
   st->replacedCount = status->replacedCount;
   memcpy(st->replaced, status->replaced, sizeof(st->replaced));
}

static void evaluateService(Watcher* w, size_t index) {
   const WatchService* svc = &w->config.services[index];
   ServiceState* st = &w->services[index];
   MatchStatus status;
   size_t n;
   const ProcessSample** procs = Matcher_select(&svc->match, w->sampler, &n, &status);
   reportMatch(svc, st, n, &status);
   for (size_t i = 0; i < n; i++)
      Sampler_keepHistory(w->sampler, procs[i]->pid);
   retrack(st, procs, n);
   WatchLog_write(WATCHLOG_DEBUG, svc->name, "%zu process%s matched", n, n == 1 ? "" : "es");
   if (w->exporter)
      Exporter_service(w->exporter, svc->name, procs, n);
   for (int r = 0; r < RULE_KIND_COUNT; r++) {
      RuleKind kind = (RuleKind)r;
      const RuleSpec* spec = &svc->rules[r];
      if (!spec->enabled || !Rule_isPerProcess(kind))
         continue;
      Finding found = evaluateRule(w, kind, spec, st, procs, n);
      if (found.failing && !st->failing[kind])
         Exporter_episode(w->exporter, svc->name, kind);
      st->failing[kind] = found.failing;
      if (w->exporter)
         Exporter_rule(w->exporter, svc->name, kind, spec, found.failing, found.known, found.worst);
      char value[96], reason[256];
      Rule_describe(kind, found.value, value, sizeof(value));
      Util_format(reason, sizeof(reason), "pid %d (%s): %s", (int)found.pid, found.comm, value);
      Fire f = { .serviceName = svc->name,
                 .rule = kind,
                 .spec = spec,
                 .value = found.value,
                 .pid = found.pid,
                 .reason = reason,
                 .procs = procs,
                 .procCount = n };
      act(w, Dispatch_step(w->dispatch, svc->name, kind, found.failing), &f);
   }
   if (svc->rules[RULE_RESTART].enabled)
      checkRestart(w, svc, st, procs, n);
   st->seen = true;
   free(st->current);
   st->current = procs;
   st->currentCount = n;
}

/* Every process some service matched in this sample, each once (caller frees). */
static const ProcessSample** watchedProcesses(const Watcher* w, size_t* total) {
   *total = 0;
   const ProcessSample** all = NULL;
   for (size_t i = 0; i < w->config.serviceCount; i++) {
      const ServiceState* st = &w->services[i];
      all = Util_xrealloc(all, (*total + st->currentCount + 1) * sizeof(*all));
      for (size_t j = 0; j < st->currentCount; j++) {
         bool dup = false;
         for (size_t k = 0; k < *total && !dup; k++)
            dup = all[k] == st->current[j];
         if (!dup)
            all[(*total)++] = st->current[j];
      }
   }
   return all;
}

/* The global rule's incident covers every watched process. */
static void evaluateSystem(Watcher* w) {
   const WatchConfig* c = &w->config;
   if (!c->systemMem.enabled)
      return;
   const SystemSample* sys = Sampler_system(w->sampler);
   bool failing = Rules_evaluateSystemMem(&c->systemMem, sys->memAvailablePct, &w->systemState) == RULE_OVER;
   if (failing && !w->systemFailing)
      Exporter_episode(w->exporter, "system", RULE_SYSTEM_MEM_BELOW);
   w->systemFailing = failing;
   if (w->exporter)
      Exporter_rule(w->exporter, "system", RULE_SYSTEM_MEM_BELOW, &c->systemMem, failing, true, sys->memAvailablePct);
   RuleAction action = Dispatch_step(w->dispatch, "system", RULE_SYSTEM_MEM_BELOW, failing);
   if (action == RULE_ACTION_NONE)
      return;
   size_t total;
   const ProcessSample** all = watchedProcesses(w, &total);
   char value[96];
   Rule_describe(RULE_SYSTEM_MEM_BELOW, sys->memAvailablePct, value, sizeof(value));
   Fire f = { .serviceName = "system",
              .rule = RULE_SYSTEM_MEM_BELOW,
              .spec = &c->systemMem,
              .value = sys->memAvailablePct,
              .reason = value,
              .procs = all,
              .procCount = total };
   act(w, action, &f);
   free(all);
}

/* ---- services across reloads */

static void freeServiceState(ServiceState* st) {
   free(st->name);
   free(st->tracked);
   free(st->lastSeen);
   free(st->current);
   memset(st, 0, sizeof(*st));
}

/* New service states for config, taking over those of services of the same name. */
static ServiceState* carryServices(ServiceState* old, size_t oldCount, const WatchConfig* config) {
   ServiceState* next = Util_xcalloc(config->serviceCount ? config->serviceCount : 1, sizeof(ServiceState));
   for (size_t i = 0; i < config->serviceCount; i++) {
      for (size_t k = 0; k < oldCount; k++) {
         if (old[k].name && strcmp(old[k].name, config->services[i].name) == 0) {
            next[i] = old[k];
            memset(&old[k], 0, sizeof(old[k]));
            break;
         }
      }
      if (!next[i].name)
         next[i].name = Util_xstrdup(config->services[i].name);
   }
   for (size_t k = 0; k < oldCount; k++)
      freeServiceState(&old[k]);
   free(old);
   return next;
}

static void logWarnings(const WatchConfig* c) {
   for (size_t i = 0; i < c->warningCount; i++)
      WatchLog_write(WATCHLOG_WARNING, NULL, "%s", c->warnings[i]);
}

/* Goroutine counts cost a stat per process and the goroutine list of each
 * Go process: read only when a rule or the metrics (stacktop_goroutines) use them. */
static unsigned samplerFields(const WatchConfig* c) {
   if (WatchConfig_exportsMetrics(c))
      return SAMPLER_FIELD_GOROUTINES;
   for (size_t i = 0; i < c->serviceCount; i++) {
      for (int k = 0; k < RULE_KIND_COUNT; k++) {
         if (c->services[i].rules[k].enabled && Rule_needsGoroutines((RuleKind)k))
            return SAMPLER_FIELD_GOROUTINES;
      }
   }
   return 0;
}

static Sampler* newSampler(const WatchConfig* c, size_t* capacity, char* err, size_t errSize) {
   *capacity = WatchConfig_historyCapacity(c);
   SamplerOptions so = { .historyCapacity = *capacity, .historyOnDemand = true };
   Sampler* s = Sampler_new(&so, err, errSize);
   if (s)
      Sampler_setFields(s, samplerFields(c));
   return s;
}

/* ---- metrics and alerts */

static void onBundled(void* ctx, const Incident* in, const EvidenceResult* r) {
   Exporter_bundled(((Watcher*)ctx)->exporter, in, r);
}

static void onBundleFailed(void* ctx, const Incident* in) {
   Exporter_bundleFailed(((Watcher*)ctx)->exporter, in);
}

static void onMailed(void* ctx, bool delivered) {
   Exporter_mailed(((Watcher*)ctx)->exporter, delivered);
}

static int alertDirFd(void* ctx, char* why, size_t whySize) {
   Watcher* w = ctx;
   return Dispatch_usable(w->dispatch, why, whySize) ? Dispatch_dirFd(w->dispatch) : -1;
}

static void countAlert(void* ctx, AlertOutcome outcome) {
   Exporter_alert(((Watcher*)ctx)->exporter, AlertOutcome_name(outcome));
}

/* The processes a bundle asked for by an alert covers: the service's in
 * the last sample, or every watched one for the host ("system"). Caller frees. */
static const ProcessSample** requestedProcesses(const Watcher* w, const char* service, size_t* n) {
   for (size_t i = 0; i < w->config.serviceCount; i++) {
      if (strcmp(w->config.services[i].name, service) == 0) {
         const ServiceState* st = &w->services[i];
         *n = st->currentCount;
         const ProcessSample** copy = Util_xcalloc(*n ? *n : 1, sizeof(*copy));
         if (*n)
            memcpy(copy, st->current, *n * sizeof(*copy));
         return copy;
      }
   }
   return watchedProcesses(w, n);
}

/* An alert's incident: named HOST-SERVICE-alert_ALERTNAME-TIME, the alert attached. */
static void fireAlert(Watcher* w, const char* service, const Alert* a, const char* receiver) {
   const char* alertname = Alert_label(a, "alertname");
   char label[80], name[300], threshold[160], reason[512];
   Util_format(label, sizeof(label), "alert_%.60s", alertname ? alertname : "");
   double wall = Util_wallSeconds();
   Dispatch_nameFor(w->dispatch, service, label, wall, name, sizeof(name));
   Util_format(threshold, sizeof(threshold), "alert %s", alertname ? alertname : "?");
   const char* summary = Alert_annotation(a, "summary");
   Util_format(reason, sizeof(reason), "Alertmanager alert %s, firing since %s%s%s", alertname ? alertname : "?",
               a->startsAt, summary ? ": " : "", summary ? summary : "");
   Incident in;
   Incident_init(&in, name, service, RULE_ON_DEMAND, threshold, 0, reason, wall);
   size_t n;
   const ProcessSample** procs = requestedProcesses(w, service, &n);
   for (size_t i = 0; i < n; i++)
      Incident_addProcess(&in, procs[i]);
   free(procs);
   Incident_setAlert(&in, alertname ? alertname : "", a->fingerprint, a->startsAt, a->generatorUrl, receiver);
   for (size_t i = 0; i < a->labelCount; i++)
      Incident_addAlertPair(&in, false, a->labels[i].key, a->labels[i].value);
   for (size_t i = 0; i < a->annotationCount; i++)
      Incident_addAlertPair(&in, true, a->annotations[i].key, a->annotations[i].value);
   WatchLog_write(WATCHLOG_NOTICE, service, "%s; writing a bundle", in.reason);
   Dispatch_fire(w->dispatch, &in);
}

static AlertOutcome captureAlert(void* ctx, const char* service, const Alert* a, const char* receiver, char* why,
                                 size_t whySize) {
   Watcher* w = ctx;
   if (!Dispatch_usable(w->dispatch, why, whySize))
      return ALERT_RETRY;
   RuleAction action = Dispatch_request(w->dispatch, service);
   switch (action) {
   case RULE_ACTION_FIRE:
      fireAlert(w, service, a, receiver);
      Util_format(why, whySize, "a bundle of %s is being written", service);
      return ALERT_CAPTURED;
   case RULE_ACTION_SUPPRESS_CAP:
      Util_format(why, whySize, "no bundle of %s: max_bundles_per_hour (%lu) is reached", service,
                  w->config.maxBundlesPerHour);
      break;
   case RULE_ACTION_SUPPRESS_PENDING:
      Util_format(why, whySize, "no second bundle of %s: one is being written", service);
      break;
   default:
      Util_format(why, whySize, "no bundle of %s: one was asked for less than the cooldown (%gs) ago", service,
                  w->config.cooldownS);
      action = RULE_ACTION_SUPPRESS_COOLDOWN;
      break;
   }
   Exporter_suppressed(w->exporter, service, RULE_ON_DEMAND, action);
   return ALERT_SUPPRESSED;
}

/* The exporter and listeners the config asks for (at start and after a reload). */
static int configureMetrics(Watcher* w, char* err, size_t errSize) {
   const WatchConfig* c = &w->config;
   if (WatchConfig_exportsMetrics(c) && !w->exporter)
      w->exporter = Exporter_new(c->metricsProcessExporter);
   else if (!WatchConfig_exportsMetrics(c) && w->exporter) {
      Exporter_free(w->exporter);
      w->exporter = NULL;
   }
   if (w->exporter)
      Exporter_configure(w->exporter, c->metricsProcessExporter);
   w->textfileProblem[0] = '\0';
   return Listeners_configure(w->listeners, c, w->exporter, &w->alertTarget, err, errSize);
}

/* After each sample: the exposition, and the textfile for node_exporter. */
static void publishMetrics(Watcher* w, double sampleSeconds) {
   if (!w->exporter)
      return;
   Exporter_endSample(w->exporter, sampleSeconds, Dispatch_bundleBytes(w->dispatch), Dispatch_mailPending(w->dispatch));
   if (!w->config.metricsTextfile)
      return;
   char err[768];
   if (Exporter_writeTextfile(w->exporter, w->config.metricsTextfile, err, sizeof(err)) == 0) {
      if (w->textfileProblem[0])
         WatchLog_write(WATCHLOG_NOTICE, NULL, "metrics_textfile %s is written again", w->config.metricsTextfile);
      w->textfileProblem[0] = '\0';
      return;
   }
   if (strcmp(err, w->textfileProblem) != 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s; tried again after every sample", err);
   Util_format(w->textfileProblem, sizeof(w->textfileProblem), "%s", err);
}

/* SIGHUP: the new file, or the old config with the reason it was kept. */
static void reload(Watcher* w) {
   signals.reload = 0;
   WatchConfig fresh;
   char err[1024];
   if (WatchConfig_load(&fresh, w->options.configPath, err, sizeof(err)) < 0) {
      WatchLog_write(WATCHLOG_ERROR, NULL, "reload failed, keeping the running configuration: %s", err);
      return;
   }
   Sampler* sampler = w->sampler;
   size_t capacity = w->historyCapacity;
   if (WatchConfig_historyCapacity(&fresh) != capacity) {
      sampler = newSampler(&fresh, &capacity, err, sizeof(err));
      if (!sampler) {
         WatchLog_write(WATCHLOG_ERROR, NULL, "reload failed, keeping the running configuration: %s", err);
         WatchConfig_free(&fresh);
         return;
      }
      WatchLog_write(WATCHLOG_NOTICE, NULL,
                     "the new interval or growth windows need another history size: sample history starts afresh");
   }
   for (size_t i = 0; i < w->config.serviceCount; i++) {
      free(w->services[i].current);
      w->services[i].current = NULL;
      w->services[i].currentCount = 0;
   }
   if (sampler != w->sampler) {
      Sampler_free(w->sampler);
      w->sampler = sampler;
      w->historyCapacity = capacity;
   }
   Sampler_setFields(w->sampler, samplerFields(&fresh));
   w->services = carryServices(w->services, w->config.serviceCount, &fresh);
   WatchConfig old = w->config;
   w->config = fresh;
   if (w->config.systemMem.enabled && !w->trend)
      w->trend = ResTrend_new();
   if (!w->config.systemMem.enabled && w->trend) {
      ResTrend_free(w->trend);
      w->trend = NULL;
   }
   Dispatch_reconfigure(w->dispatch, &w->config, w->sampler, w->trend);
   if (configureMetrics(w, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "after the reload: %s; that listener is off until the next reload", err);
   WatchConfig_free(&old);
   logWarnings(&w->config);
   WatchLog_write(WATCHLOG_NOTICE, NULL, "configuration reloaded from %s: %zu service%s every %gs; bundles in %s",
                  w->config.path, w->config.serviceCount, w->config.serviceCount == 1 ? "" : "s", w->config.intervalS,
                  w->config.bundleDir);
}

/* ---- the loop */

static void sampleOnce(Watcher* w) {
   if (w->exporter)
      Exporter_beginSample(w->exporter);
   if (w->trend)
      ResTrend_update(w->trend, w->sampler, Util_monotonicSeconds(),
                      fmin(60.0, fmax(1.0, w->config.intervalS * TREND_INTERVALS)));
   for (size_t i = 0; i < w->config.serviceCount && !signals.stop; i++)
      evaluateService(w, i);
   evaluateSystem(w);
}

static int finish(Watcher* w, int rc) {
   Dispatch_stop(w->dispatch, signals.stop ? SHUTDOWN_GRACE_S : 0);
   DispatchCounts c = Dispatch_counts(w->dispatch);
   WatchLog_write(WATCHLOG_NOTICE, NULL,
                  "stopping: %u bundle%s written, %u attempt%s failed, %zu incident%s not bundled yet (kept for the "
                  "next start), %zu mail%s pending",
                  c.bundlesWritten, c.bundlesWritten == 1 ? "" : "s", c.bundlesFailed, c.bundlesFailed == 1 ? "" : "s",
                  c.incidentsPending, c.incidentsPending == 1 ? "" : "s", c.mailsPending,
                  c.mailsPending == 1 ? "" : "s");
   if (rc == STACKTOP_EXIT_OK && w->options.once && !signals.stop && (c.incidentsPending > 0 || c.bundlesFailed > 0))
      return STACKTOP_EXIT_FAILURE; /* --once: a bundle that was due is missing */
   return rc;
}

static int loop(Watcher* w) {
   unsigned needed = WatchConfig_samplesNeeded(&w->config);
   double next = Util_monotonicSeconds();
   char err[512];
   for (unsigned sample = 1; !signals.stop; sample++) {
      if (signals.reload)
         reload(w);
      double began = Util_monotonicSeconds();
      if (Sampler_refresh(w->sampler, err, sizeof(err)) < 0) {
         WatchLog_write(WATCHLOG_ERROR, NULL, "sampling failed: %s", err);
         return finish(w, STACKTOP_EXIT_FAILURE);
      }
      sampleOnce(w);
      publishMetrics(w, Util_monotonicSeconds() - began);
      Dispatch_poll(w->dispatch);
      if (w->options.once && sample >= needed)
         break;
      next += w->config.intervalS;
      if (next < Util_monotonicSeconds())
         next = Util_monotonicSeconds(); /* no burst of samples after a stall */
      waitUntil(w, next);
   }
   /* --once: the bundles, hooks and mails of this run, each within its own limit. */
   while (w->options.once && !signals.stop && !Dispatch_idle(w->dispatch)) {
      signals.reload = 0;
      waitUntil(w, Util_monotonicSeconds() + 1);
   }
   return finish(w, STACKTOP_EXIT_OK);
}

static int start(Watcher* w) {
   WatchConfig* c = &w->config;
   char err[1024];
   w->listeners = Listeners_new();
   w->sampler = newSampler(c, &w->historyCapacity, err, sizeof(err));
   if (!w->sampler) {
      Util_error("watch: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   if (c->systemMem.enabled)
      w->trend = ResTrend_new();
   w->dispatch = Dispatch_new(c, w->sampler, w->trend, w->options.once, err, sizeof(err));
   if (!w->dispatch) {
      Util_error("watch: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   Dispatch_closeInChildren(w->dispatch, w->wakeRead);
   Dispatch_closeInChildren(w->dispatch, signals.wakeWrite);
   Dispatch_onChild(w->dispatch, Listeners_closeInChild, w->listeners);
   DispatchEvents events = { .ctx = w, .bundled = onBundled, .bundleFailed = onBundleFailed, .mailed = onMailed };
   Dispatch_setEvents(w->dispatch, &events);
   w->services = carryServices(NULL, 0, c);
   w->alertTarget = (AlertTarget){ .ctx = w, .dirFd = alertDirFd, .capture = captureAlert, .count = countAlert };
   if (configureMetrics(w, err, sizeof(err)) < 0) {
      Util_error("watch: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   logWarnings(c);
   WatchLog_write(WATCHLOG_NOTICE, NULL, "watching %zu service%s from %s every %gs; bundles in %s", c->serviceCount,
                  c->serviceCount == 1 ? "" : "s", c->path, c->intervalS, c->bundleDir);
   return loop(w);
}

static void cleanup(Watcher* w) {
   Dispatch_free(w->dispatch);
   Listeners_free(w->listeners);
   Exporter_free(w->exporter);
   for (size_t i = 0; w->services && i < w->config.serviceCount; i++)
      freeServiceState(&w->services[i]);
   free(w->services);
   ResTrend_free(w->trend);
   Sampler_free(w->sampler);
   if (w->wakeRead >= 0)
      close(w->wakeRead);
   if (signals.wakeWrite >= 0)
      close(signals.wakeWrite);
   signals.wakeWrite = -1;
}

static int checkConfig(Watcher* w) {
   for (size_t i = 0; i < w->config.warningCount; i++)
      fprintf(stderr, "stacktop: warning: %s\n", w->config.warnings[i]);
   WatchConfig_print(&w->config, stdout);
   return STACKTOP_EXIT_OK;
}

int Watch_main(int argc, char** argv) {
   Watcher w;
   memset(&w, 0, sizeof(w));
   w.wakeRead = -1;
   if (parseOptions(&w.options, argc, argv) < 0)
      return STACKTOP_EXIT_USAGE;
   if (w.options.help) {
      Cli_printHelp(&command, stdout);
      return STACKTOP_EXIT_OK;
   }
   char err[1024];
   if (WatchConfig_load(&w.config, w.options.configPath, err, sizeof(err)) < 0) {
      Util_error("%s", err);
      return STACKTOP_EXIT_USAGE;
   }
   if (w.options.checkConfig) {
      int rc = checkConfig(&w);
      WatchConfig_free(&w.config);
      return rc;
   }
   /* Bundles, mail and pprof need them (and the listeners theirs): load them
    * before anything starts, so a missing library stops the watch at once
    * instead of at the first incident. */
   bool http = w.config.metricsListen || w.config.alertListen;
   if (!ArchiveApi_get(err, sizeof(err)) || !CurlApi_get(err, sizeof(err)) || (http && !MhdApi_get(err, sizeof(err))) ||
       (w.config.alertListen && !JanssonApi_get(err, sizeof(err)))) {
      Util_error("watch: %s", err);
      WatchConfig_free(&w.config);
      return STACKTOP_EXIT_FAILURE;
   }
   if (installSignals(&w) < 0) {
      WatchConfig_free(&w.config);
      return STACKTOP_EXIT_FAILURE;
   }
   WatchLog_open(!w.options.foreground, w.options.verbose);
   int rc = start(&w);
   cleanup(&w);
   WatchLog_close();
   WatchConfig_free(&w.config);
   return rc;
}
