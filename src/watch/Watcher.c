/* `stacktop watch`: options, the sampling loop, rule evaluation per service,
 * and what happens when a rule fires (bundle, mail, hook, retention). */
#include "stacktop/Watch.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/ArchiveApi.h"
#include "stacktop/Bundle.h"
#include "stacktop/CurlApi.h"
#include "stacktop/Evidence.h"
#include "stacktop/Format.h"
#include "stacktop/Hook.h"
#include "stacktop/MailQueue.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"
#include "stacktop/Util.h"
#include "stacktop/WatchConfig.h"
#include "stacktop/WatchLog.h"

/* Set by SIGINT/SIGTERM/SIGHUP, read by the loop between samples: the only
 * state a signal handler may touch. */
static volatile sig_atomic_t stopRequested;

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

typedef struct ServiceState_ {
   Tracked* tracked;
   size_t trackedCount;
   RuleEpisode episodes[RULE_KIND_COUNT];
   Tracked* lastSeen; /* restart: the processes of the previous sample */
   size_t lastSeenCount;
} ServiceState;

typedef struct Watcher_ {
   WatchConfig config;
   WatchOptions options;
   Sampler* sampler;
   ServiceState* services;
   RuleEpisode systemEpisode;
   RuleProcessState systemState;
   FloodCap cap;
   unsigned fired;
} Watcher;

/* What one rule found across a service's processes in one sample. */
typedef struct Finding_ {
   bool failing;
   double value; /* worst value among the failing processes */
   pid_t pid;
   char comm[16];
} Finding;

static const char usage[] = "usage: stacktop watch -c FILE [--once] [--check-config] [--foreground] [-v]\n"
                            "  -c, --config FILE   the watch config (see stacktop.conf(5))\n"
                            "      --once          sample until every rule had its window, fire what fires, exit\n"
                            "      --check-config  validate FILE and print the resolved services and rules\n"
                            "      --foreground    log to stderr only (otherwise also to syslog)\n"
                            "  -v, --verbose       also log every sample's findings\n";

static int parseOptions(WatchOptions* o, int argc, char** argv) {
   static const struct option longOptions[] = {
      { "config", required_argument, NULL, 'c' },
      { "once", no_argument, NULL, 'o' },
      { "check-config", no_argument, NULL, 'k' },
      { "foreground", no_argument, NULL, 'f' },
      { "verbose", no_argument, NULL, 'v' },
      { "help", no_argument, NULL, 'h' },
      { NULL, 0, NULL, 0 },
   };
   memset(o, 0, sizeof(*o));
   optind = 1;
   opterr = 0;
   int c;
   while ((c = getopt_long(argc, argv, "+c:vh", longOptions, NULL)) != -1) {
      switch (c) {
      case 'c': o->configPath = optarg; break;
      case 'o': o->once = true; break;
      case 'k': o->checkConfig = true; break;
      case 'f': o->foreground = true; break;
      case 'v': o->verbose = true; break;
      case 'h': o->help = true; return 0;
      default:
         if (optopt == 'c')
            Util_error("watch: -c needs a config file (see 'stacktop watch --help')");
         else
            Util_error("watch: unknown option '%s' (see 'stacktop watch --help')", argv[optind - 1]);
         return -1;
      }
   }
   if (optind < argc) {
      Util_error("watch: unexpected argument '%s' (see 'stacktop watch --help')", argv[optind]);
      return -1;
   }
   if (!o->configPath) {
      Util_error("watch: no config file; expected -c FILE (see stacktop.conf(5))");
      return -1;
   }
   return 0;
}

static void onStopSignal(int sig) {
   (void)sig;
   stopRequested = 1;
}

static void installSignals(void) {
   struct sigaction sa;
   memset(&sa, 0, sizeof(sa));
   sa.sa_handler = onStopSignal;
   sigemptyset(&sa.sa_mask);
   sigaction(SIGINT, &sa, NULL);
   sigaction(SIGTERM, &sa, NULL);
   sigaction(SIGHUP, &sa, NULL);
   signal(SIGPIPE, SIG_IGN);
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

/* ---- describing values */

static void formatValue(RuleKind kind, double v, char* buf, size_t size) {
   char k[16];
   switch (kind) {
   case RULE_RES_ABOVE:
      Format_kib(k, sizeof(k), (unsigned long long)v);
      Util_format(buf, size, "RES %s", k);
      break;
   case RULE_RES_GROWTH_ABOVE:
      Format_kib(k, sizeof(k), (unsigned long long)fabs(v * 60));
      Util_format(buf, size, "RES growing %s%s/h", v < 0 ? "-" : "+", k);
      break;
   case RULE_THREADS_ABOVE: Util_format(buf, size, "%.0f threads", v); break;
   case RULE_THREAD_GROWTH_ABOVE: Util_format(buf, size, "threads growing %+.1f/h", v * 60); break;
   case RULE_CPU_ABOVE: Util_format(buf, size, "CPU %.1f%% of one core", v); break;
   case RULE_FDS_ABOVE: Util_format(buf, size, "%.1f%% of the open-files limit in use", v); break;
   case RULE_SYSTEM_MEM_BELOW: Util_format(buf, size, "%.1f%% of memory available", v); break;
   case RULE_RESTART:
   case RULE_KIND_COUNT: Util_format(buf, size, "-"); break;
   }
}

/* ---- firing */

typedef struct Fire_ {
   const char* serviceName;
   const WatchService* service; /* NULL for the system rule */
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

static void mailBundle(Watcher* w, const Fire* f, const char* bundle, const char* threshold) {
   const WatchConfig* c = &w->config;
   if (c->mailToCount == 0)
      return;
   char subject[512], err[512];
   Util_format(subject, sizeof(subject), "[stacktop] %s: %s %s fired", c->hostname, f->serviceName, Rule_name(f->rule));
   char* body = NULL;
   size_t len = 0;
   FILE* out = open_memstream(&body, &len);
   if (!out) {
      WatchLog_write(WATCHLOG_ERROR, f->serviceName, "mail not queued: out of memory");
      return;
   }
   fprintf(out, "stacktop watch on %s\n\nservice:  %s\nrule:     %s = %s\nfired:    %s\nbundle:   %s\n\nprocesses:\n",
           c->hostname, f->serviceName, Rule_name(f->rule), threshold, f->reason, bundle);
   for (size_t i = 0; i < f->procCount; i++)
      fprintf(out, "  %d %s\n", (int)f->procs[i]->pid, f->procs[i]->command ? f->procs[i]->command : f->procs[i]->comm);
   if (f->procCount == 0)
      fputs("  (none running)\n", out);
   fclose(out);
   int rc = MailQueue_add(bundle, subject, body, Util_wallSeconds(), err, sizeof(err));
   free(body);
   if (rc < 0) {
      WatchLog_write(WATCHLOG_ERROR, f->serviceName, "mail not queued: %s", err);
      return;
   }
   MailQueue_process(c, Util_wallSeconds(), false);
}

static void runHook(Watcher* w, const Fire* f, const char* bundle) {
   if (!f->service || !f->service->exec)
      return;
   char pid[32], value[64];
   Util_format(pid, sizeof(pid), "%d", (int)f->pid);
   Util_format(value, sizeof(value), "%.3f", f->value);
   const HookVar vars[] = {
      { .name = "STACKTOP_SERVICE", .value = f->serviceName },
      { .name = "STACKTOP_RULE", .value = Rule_name(f->rule) },
      { .name = "STACKTOP_PID", .value = pid },
      { .name = "STACKTOP_VALUE", .value = value },
      { .name = "STACKTOP_BUNDLE", .value = bundle },
   };
   Hook_run(f->service->exec, vars, sizeof(vars) / sizeof(vars[0]), w->config.execTimeoutS, f->serviceName);
}

static void fire(Watcher* w, const Fire* f) {
   const WatchConfig* c = &w->config;
   char threshold[128], path[4096], err[512];
   WatchConfig_formatRule(f->rule, f->spec, threshold, sizeof(threshold));
   EvidenceRequest req = {
      .config = c,
      .serviceName = f->serviceName,
      .pprofUrl = f->service ? f->service->pprofUrl : NULL,
      .rule = f->rule,
      .reason = f->reason,
      .threshold = threshold,
      .value = f->value,
      .processes = f->procs,
      .processCount = f->procCount,
      .gonePids = f->gone,
      .goneCount = f->goneCount,
      .sampler = w->sampler,
      .wallTime = Util_wallSeconds(),
   };
   w->fired++;
   WatchLog_write(WATCHLOG_NOTICE, f->serviceName, "%s fired: %s; writing a bundle", Rule_name(f->rule), f->reason);
   if (Evidence_write(&req, path, sizeof(path), err, sizeof(err)) < 0) {
      WatchLog_write(WATCHLOG_ERROR, f->serviceName, "bundle not written: %s", err);
      return;
   }
   WatchLog_write(WATCHLOG_NOTICE, f->serviceName, "bundle %s written", path);
   mailBundle(w, f, path, threshold);
   runHook(w, f, path);
   size_t pruned = Bundle_prune(c->bundleDir, c->keepBundles, c->maxBundleDisk, MailQueue_isPending);
   if (pruned)
      WatchLog_write(WATCHLOG_INFO, NULL, "removed %zu old bundle%s (keep_bundles/max_bundle_disk)", pruned,
                     pruned == 1 ? "" : "s");
}

/* Acts on what Rules_step decided. */
static void act(Watcher* w, RuleAction action, const Fire* f) {
   switch (action) {
   case RULE_ACTION_FIRE: fire(w, f); break;
   case RULE_ACTION_SUPPRESS_COOLDOWN:
      WatchLog_write(WATCHLOG_INFO, f->serviceName, "%s failing again (%s) inside the cooldown (%gs): no bundle",
                     Rule_name(f->rule), f->reason, w->config.cooldownS);
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
      if (v != RULE_NOT_READY)
         WatchLog_write(WATCHLOG_DEBUG, NULL, "pid %d %s = %.2f%s", (int)procs[i]->pid, Rule_name(kind), value,
                        v == RULE_OVER ? " (over)" : "");
      if (v == RULE_OVER && (!f.failing || value > f.value)) {
         f.failing = true;
         f.value = value;
         f.pid = procs[i]->pid;
         Util_format(f.comm, sizeof(f.comm), "%s", procs[i]->comm);
      }
   }
   return f;
}

static void checkRestart(Watcher* w, const WatchService* svc, ServiceState* st, const ProcessSample** procs, size_t n,
                         double now) {
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
   if (goneCount > 0) {
      char reason[256];
      if (n == 0)
         Util_format(reason, sizeof(reason), "pid %d is gone and no process matches any more", (int)gone[0]);
      else
         Util_format(reason, sizeof(reason), "pid %d is gone; now pid %d", (int)gone[0], (int)procs[0]->pid);
      Fire f = { .serviceName = svc->name,
                 .service = svc,
                 .rule = RULE_RESTART,
                 .spec = &svc->rules[RULE_RESTART],
                 .pid = n ? procs[0]->pid : 0,
                 .reason = reason,
                 .procs = procs,
                 .procCount = n,
                 .gone = gone,
                 .goneCount = goneCount };
      act(w, Rules_event(&st->episodes[RULE_RESTART], now, w->config.cooldownS, &w->cap), &f);
   }
   free(gone);
}

static void evaluateService(Watcher* w, size_t index, double now) {
   const WatchService* svc = &w->config.services[index];
   ServiceState* st = &w->services[index];
   size_t n;
   const ProcessSample** procs = Matcher_select(&svc->match, w->sampler, &n);
   retrack(st, procs, n);
   WatchLog_write(WATCHLOG_DEBUG, svc->name, "%zu process%s matched", n, n == 1 ? "" : "es");
   for (int r = 0; r < RULE_KIND_COUNT; r++) {
      RuleKind kind = (RuleKind)r;
      const RuleSpec* spec = &svc->rules[r];
      if (!spec->enabled || !Rule_isPerProcess(kind))
         continue;
      Finding found = evaluateRule(w, kind, spec, st, procs, n);
      char value[96], reason[256];
      formatValue(kind, found.value, value, sizeof(value));
      Util_format(reason, sizeof(reason), "pid %d (%s): %s", (int)found.pid, found.comm, value);
      Fire f = { .serviceName = svc->name,
                 .service = svc,
                 .rule = kind,
                 .spec = spec,
                 .value = found.value,
                 .pid = found.pid,
                 .reason = reason,
                 .procs = procs,
                 .procCount = n };
      act(w, Rules_step(&st->episodes[r], found.failing, now, w->config.cooldownS, &w->cap), &f);
   }
   if (svc->rules[RULE_RESTART].enabled)
      checkRestart(w, svc, st, procs, n, now);
   free(procs);
}

/* The global rule's bundle covers every watched process. */
static void evaluateSystem(Watcher* w, double now) {
   const WatchConfig* c = &w->config;
   if (!c->systemMem.enabled)
      return;
   const SystemSample* sys = Sampler_system(w->sampler);
   bool failing = Rules_evaluateSystemMem(&c->systemMem, sys->memAvailablePct, &w->systemState) == RULE_OVER;
   RuleAction action = Rules_step(&w->systemEpisode, failing, now, c->cooldownS, &w->cap);
   if (action == RULE_ACTION_NONE)
      return;
   size_t total = 0;
   const ProcessSample** all = NULL;
   for (size_t i = 0; i < c->serviceCount; i++) {
      size_t n;
      const ProcessSample** procs = Matcher_select(&c->services[i].match, w->sampler, &n);
      all = Util_xrealloc(all, (total + n + 1) * sizeof(*all));
      for (size_t j = 0; j < n; j++) {
         bool dup = false;
         for (size_t k = 0; k < total && !dup; k++)
            dup = all[k] == procs[j];
         if (!dup)
            all[total++] = procs[j];
      }
      free(procs);
   }
   char value[96];
   formatValue(RULE_SYSTEM_MEM_BELOW, sys->memAvailablePct, value, sizeof(value));
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

/* Sleeps until the monotonic deadline or a stop signal. */
static void sleepUntil(double deadline) {
   while (!stopRequested) {
      double left = deadline - Util_monotonicSeconds();
      if (left <= 0)
         return;
      struct timespec ts = { .tv_sec = (time_t)left, .tv_nsec = (long)((left - floor(left)) * 1e9) };
      nanosleep(&ts, NULL);
   }
}

static int loop(Watcher* w) {
   const WatchConfig* c = &w->config;
   unsigned needed = WatchConfig_samplesNeeded(c);
   double next = Util_monotonicSeconds();
   char err[512];
   for (unsigned sample = 1; !stopRequested; sample++) {
      if (Sampler_refresh(w->sampler, err, sizeof(err)) < 0) {
         WatchLog_write(WATCHLOG_ERROR, NULL, "sampling failed: %s", err);
         return STACKTOP_EXIT_FAILURE;
      }
      double now = Util_monotonicSeconds();
      for (size_t i = 0; i < c->serviceCount && !stopRequested; i++)
         evaluateService(w, i, now);
      evaluateSystem(w, now);
      MailQueue_process(c, Util_wallSeconds(), false);
      if (w->options.once && sample >= needed)
         break;
      next += c->intervalS;
      if (next < Util_monotonicSeconds())
         next = Util_monotonicSeconds(); /* a slow bundle must not cause a burst of samples */
      sleepUntil(next);
   }
   size_t pending = MailQueue_process(c, Util_wallSeconds(), false);
   WatchLog_write(WATCHLOG_NOTICE, NULL, "stopping: %u bundle%s written, %zu mail%s pending", w->fired,
                  w->fired == 1 ? "" : "s", pending, pending == 1 ? "" : "s");
   return STACKTOP_EXIT_OK;
}

static int start(Watcher* w) {
   const WatchConfig* c = &w->config;
   char err[512];
   if (Bundle_ensureDir(c->bundleDir, err, sizeof(err)) < 0) {
      Util_error("watch: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   SamplerOptions so = { .historyCapacity = WatchConfig_historyCapacity(c) };
   w->sampler = Sampler_new(&so, err, sizeof(err));
   if (!w->sampler) {
      Util_error("watch: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   w->services = Util_xcalloc(c->serviceCount ? c->serviceCount : 1, sizeof(ServiceState));
   FloodCap_init(&w->cap, (unsigned)c->maxBundlesPerHour);
   WatchLog_write(WATCHLOG_NOTICE, NULL, "watching %zu service%s from %s every %gs; bundles in %s", c->serviceCount,
                  c->serviceCount == 1 ? "" : "s", c->path, c->intervalS, c->bundleDir);
   /* Mails left over from an earlier run go out first, whatever their backoff said. */
   MailQueue_process(c, Util_wallSeconds(), true);
   int rc = loop(w);
   for (size_t i = 0; i < c->serviceCount; i++) {
      free(w->services[i].tracked);
      free(w->services[i].lastSeen);
   }
   free(w->services);
   Sampler_free(w->sampler);
   return rc;
}

int Watch_main(int argc, char** argv) {
   Watcher w;
   memset(&w, 0, sizeof(w));
   if (parseOptions(&w.options, argc, argv) < 0)
      return STACKTOP_EXIT_USAGE;
   if (w.options.help) {
      fputs(usage, stdout);
      return STACKTOP_EXIT_OK;
   }
   char err[1024];
   if (WatchConfig_load(&w.config, w.options.configPath, err, sizeof(err)) < 0) {
      Util_error("%s", err);
      return STACKTOP_EXIT_USAGE;
   }
   if (w.options.checkConfig) {
      WatchConfig_print(&w.config, stdout);
      WatchConfig_free(&w.config);
      return STACKTOP_EXIT_OK;
   }
   /* Bundles, mail and pprof need them: load both before anything starts, so a
    * missing library stops the watch at once instead of at the first incident. */
   if (!ArchiveApi_get(err, sizeof(err)) || !CurlApi_get(err, sizeof(err))) {
      Util_error("watch: %s", err);
      WatchConfig_free(&w.config);
      return STACKTOP_EXIT_FAILURE;
   }
   installSignals();
   WatchLog_open(!w.options.foreground, w.options.verbose);
   int rc = start(&w);
   WatchLog_close();
   WatchConfig_free(&w.config);
   return rc;
}
