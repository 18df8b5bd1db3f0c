/* `stacktop bundle`: the option table (Cli), then one bundle through the
 * watcher's shared state and bundle writer; see BundleCli.h. */
#include "stacktop/BundleCli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/ArchiveApi.h"
#include "stacktop/BundleDir.h"
#include "stacktop/Cli.h"
#include "stacktop/CurlApi.h"
#include "stacktop/Dispatch.h"
#include "stacktop/Incident.h"
#include "stacktop/Jobs.h"
#include "stacktop/MailQueue.h"
#include "stacktop/Matcher.h"
#include "stacktop/Printable.h"
#include "stacktop/Rules.h"
#include "stacktop/Sampler.h"
#include "stacktop/Signals.h"
#include "stacktop/Util.h"
#include "stacktop/WatchConfig.h"
#include "stacktop/WatchLog.h"
#include "stacktop/WatchState.h"

/* A reason is one line of a summary and a mail: bounded like an alert's. */
#define REASON_MAX 400
/* CPU figures need two samples; the bundle should not wait a whole interval. */
#define SAMPLE_GAP_MAX_S 1.0

/* The signal that asked this command to stop (SIGINT, SIGTERM, SIGHUP), 0 if none. */
static volatile sig_atomic_t stopSignal;

typedef struct BundleArgs_ {
   const char* configPath;
   const char* service;
   const char* reason;
   bool help;
} BundleArgs;

static int onConfig(void* target, const char* v, char* err, size_t errSize) {
   (void)err, (void)errSize;
   ((BundleArgs*)target)->configPath = v;
   return 0;
}

static int onService(void* target, const char* v, char* err, size_t errSize) {
   if (!*v) {
      Util_format(err, errSize, "empty --service: give the name of a [service NAME] section of the config");
      return -1;
   }
   ((BundleArgs*)target)->service = v;
   return 0;
}

static int onReason(void* target, const char* v, char* err, size_t errSize) {
   if (strlen(v) > REASON_MAX) {
      Util_format(err, errSize, "--reason is longer than %d bytes", REASON_MAX);
      return -1;
   }
   ((BundleArgs*)target)->reason = v;
   return 0;
}

static int onHelp(void* target, const char* v, char* err, size_t errSize) {
   (void)v, (void)err, (void)errSize;
   ((BundleArgs*)target)->help = true;
   return 0;
}

static const CliOption options[] = {
   { .longName = "config",
     .shortName = 'c',
     .valueName = "FILE",
     .help = "the watch config (see stacktop.conf(5)): bundle_dir, mail, cooldown, max_bundles_per_hour",
     .handle = onConfig },
   { .longName = "service",
     .shortName = 's',
     .valueName = "NAME",
     .help = "the [service NAME] of FILE to bundle",
     .handle = onService },
   { .longName = "reason",
     .shortName = 'r',
     .valueName = "TEXT",
     .help = "why, for the summary and the mail (one line, at most 400 bytes)",
     .handle = onReason },
   { .longName = "help", .shortName = 'h', .help = "this help", .handle = onHelp },
};

static const CliCommand command = {
   .name = "bundle",
   .synopsis = "bundle -c FILE --service NAME [--reason TEXT]",
   .summary = "Writes one diagnostic bundle of a service now, as stacktop watch would, and mails it. The service's "
              "cooldown, the hourly cap and a bundle still being written (by a watcher or another stacktop bundle) "
              "refuse it.",
   .options = options,
   .optionCount = sizeof(options) / sizeof(options[0]),
   .footer = "Exit status: 0 the bundle was written, 1 it was refused or could not be written (the message says "
             "why), 2 bad command line or config, 128+N stopped by signal N (no bundle; nothing left pending).",
   .stopAtOperand = true,
   .manPage = "doc/stacktop.1",
};

const CliCommand* BundleCli_command(void) {
   return &command;
}

static int parseArgs(BundleArgs* a, int argc, char** argv) {
   memset(a, 0, sizeof(*a));
   char err[512];
   int operand;
   if (Cli_parse(&command, a, argc, argv, &operand, err, sizeof(err)) != 0) {
      Util_error("bundle: %s (see 'stacktop bundle --help')", err);
      return -1;
   }
   if (a->help)
      return 0;
   if (operand < argc) {
      Util_error("bundle: unexpected argument '%s' (see 'stacktop bundle --help')", argv[operand]);
      return -1;
   }
   if (!a->configPath || !a->service) {
      Util_error("bundle: expected -c FILE and --service NAME (see 'stacktop bundle --help')");
      return -1;
   }
   return 0;
}

/* ---- the evidence's processes */

static void waitSeconds(double seconds) {
   struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
   while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stopSignal) {
   }
}

/* Two refreshes, so that CPU figures in the bundle cover an interval. */
static Sampler* sample(const WatchConfig* c, char* err, size_t errSize) {
   SamplerOptions so = { 0 }; /* history of every process: two samples of each, the bundle shows them */
   Sampler* s = Sampler_new(&so, err, errSize);
   if (!s)
      return NULL;
   Sampler_setFields(s, SAMPLER_FIELD_GOROUTINES);
   double gap = c->intervalS < SAMPLE_GAP_MAX_S ? c->intervalS : SAMPLE_GAP_MAX_S;
   if (Sampler_refresh(s, err, errSize) < 0) {
      Sampler_free(s);
      return NULL;
   }
   waitSeconds(gap);
   if (Sampler_refresh(s, err, errSize) < 0) {
      Sampler_free(s);
      return NULL;
   }
   return s;
}

/* ---- the decision, in the shared state */

typedef struct Decision_ {
   RuleAction action;
   double agoS; /* since the last on-demand bundle, for the cooldown message */
} Decision;

/* Marks (service, on_demand) pending when a bundle may be written: from here
 * on, a watcher refuses the service's alerts and other bundle commands until
 * Dispatch_writeBundle records it (or release() drops it). */
static int decide(int dirFd, const WatchConfig* c, const char* service, Decision* out, char* err, size_t errSize) {
   int lock = WatchState_lock(dirFd, err, errSize);
   if (lock < 0)
      return -1;
   WatchState st;
   WatchState_init(&st, (unsigned)c->maxBundlesPerHour);
   int rc = WatchState_load(&st, dirFd, err, errSize);
   if (rc >= 0) {
      double now = WatchState_now();
      const RuleEpisode* ep = WatchState_episode(&st, service, RULE_ON_DEMAND);
      out->agoS = ep->everFired ? now - ep->lastFiredAt : -1;
      out->action = Dispatch_decideRequest(&st, service, now, c->cooldownS);
      rc = out->action == RULE_ACTION_FIRE ? WatchState_save(&st, dirFd, err, errSize) : 0;
   }
   WatchState_free(&st);
   WatchState_unlock(lock);
   return rc < 0 ? -1 : 0;
}

/* The bundle was not written after all: another one may be asked for. */
static void release(int dirFd, const WatchConfig* c, const char* service) {
   char err[512];
   int lock = WatchState_lock(dirFd, err, sizeof(err));
   if (lock < 0) {
      Util_error("bundle: %s; the service stays marked as being bundled until a watcher restarts", err);
      return;
   }
   WatchState st;
   WatchState_init(&st, (unsigned)c->maxBundlesPerHour);
   if (WatchState_load(&st, dirFd, err, sizeof(err)) >= 0) {
      Rules_dropped(WatchState_episode(&st, service, RULE_ON_DEMAND));
      if (WatchState_save(&st, dirFd, err, sizeof(err)) < 0)
         Util_error("bundle: %s", err);
   }
   WatchState_free(&st);
   WatchState_unlock(lock);
}

static void refusal(const WatchConfig* c, const char* service, const Decision* d) {
   switch (d->action) {
   case RULE_ACTION_SUPPRESS_CAP:
      Util_error("bundle: no bundle of %s: max_bundles_per_hour (%lu) is reached; try again later", service,
                 c->maxBundlesPerHour);
      break;
   case RULE_ACTION_SUPPRESS_PENDING:
      Util_error("bundle: no second bundle of %s: one is being written (by stacktop watch or another stacktop "
                 "bundle)",
                 service);
      break;
   default:
      Util_error("bundle: no bundle of %s: the last one asked for was written %.0fs ago, inside the cooldown (%gs); "
                 "try again in %.0fs",
                 service, d->agoS, c->cooldownS, c->cooldownS - d->agoS);
      break;
   }
}

/* ---- the bundle and its mail */

/* With no watcher on bundle_dir, nobody else would send the mail now. */
static const char* sendMail(const WatchConfig* c, int dirFd, const Incident* in) {
   int lock = Dispatch_lockUnwatched(dirFd);
   if (lock < 0)
      return "queued, the running stacktop watch sends it";
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   char err[512], file[NAME_MAX + 1];
   const char* what = "queued, not sent: bundle_dir has no usable key; the next stacktop watch sends it";
   Incident_file(in, MAILQUEUE_SUFFIX, file, sizeof(file));
   if (BundleDir_key(dirFd, key, err, sizeof(err)) == 0)
      what = MailQueue_attempt(c, dirFd, key, file) == 0 ? "sent"
                                                         : "queued, not sent yet (see the message above); the next "
                                                           "stacktop watch on this bundle_dir retries it";
   close(lock);
   return what;
}

/* What the bundle job reads in its child (its copy of memory). */
typedef struct BundleJob_ {
   const WatchConfig* config;
   const Sampler* sampler;
   const Incident* incident;
} BundleJob;

/* In the child: the bundle, reported as "ok SIZE NOTES\nMAILSTATE" or "failed WHY". */
static int runBundle(void* arg, int resultFd) {
   const BundleJob* job = arg;
   char err[1024], text[JOB_RESULT_MAX];
   DispatchBundle out;
   int n;
   if (Dispatch_writeBundle(job->config, job->sampler, NULL, job->incident, &out, err, sizeof(err)) < 0)
      n = snprintf(text, sizeof(text), "failed %s", err);
   else
      n = snprintf(text, sizeof(text), "ok %llu %zu\n%s", out.evidence.size, out.evidence.notes, out.mailState);
   if (n > 0 && write(resultFd, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1) < 0)
      return 1;
   return 0;
}

static void onStopSignal(int sig) {
   stopSignal = sig;
}

/* SIGINT, SIGTERM, SIGHUP end the bundle job and this command, cleanly
 * (no SA_RESTART: the waits return at once). */
static void catchStopSignals(void) {
   static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
   Signals_install(stops, SIGNALS_COUNT(stops), onStopSignal, 0, false);
}

typedef struct JobEnd_ {
   bool ended;
   JobOutcome outcome;
} JobEnd;

static void jobDone(void* ctx, const JobOutcome* o) {
   JobEnd* end = ctx;
   end->ended = true;
   end->outcome = *o;
}

/* The bundle job, as the watcher runs it: a child of its own, killed at
 * bundle_timeout or when this command is asked to stop. False with a
 * message when no bundle was written. */
static bool runJob(const WatchConfig* c, const Sampler* s, const Incident* in, JobEnd* end, char* why, size_t whySize) {
   BundleJob job = { .config = c, .sampler = s, .incident = in };
   JobSpec spec = {
      .label = "bundle", .timeoutS = c->bundleTimeoutS, .run = runBundle, .arg = &job, .done = jobDone, .ctx = end
   };
   Jobs* jobs = Jobs_new();
   if (Jobs_start(jobs, &spec, why, whySize) < 0) {
      Jobs_free(jobs);
      return false;
   }
   while (!end->ended && !stopSignal) {
      Jobs_poll(jobs);
      if (!end->ended)
         waitSeconds(0.05);
   }
   if (!end->ended)
      Jobs_stopAll(jobs, 0);
   Jobs_free(jobs);
   const JobOutcome* o = &end->outcome;
   if (stopSignal)
      Util_format(why, whySize, "interrupted by signal %d", (int)stopSignal);
   else if (o->timedOut)
      Util_format(why, whySize, "not done within bundle_timeout (%gs)", c->bundleTimeoutS);
   else if (strncmp(o->result, "ok ", 3) != 0)
      Util_format(why, whySize, "%s",
                  strncmp(o->result, "failed ", 7) == 0 ? o->result + 7 : "the bundle job ended without a report");
   else
      return true;
   return false;
}

static int writeBundle(const WatchConfig* c, int dirFd, const Sampler* s, Incident* in) {
   char err[1024];
   unsigned char key[BUNDLEDIR_KEY_BYTES];
   /* On disk first: a bundle command killed now leaves an incident a watcher recovers at its start. */
   if (BundleDir_key(dirFd, key, err, sizeof(err)) < 0 || Incident_save(in, dirFd, key, err, sizeof(err)) < 0) {
      Util_error("bundle: cannot record the incident in %s: %s", c->bundleDir, err);
      return STACKTOP_EXIT_FAILURE;
   }
   JobEnd end = { 0 };
   if (!runJob(c, s, in, &end, err, sizeof(err))) {
      char file[NAME_MAX + 1];
      Incident_file(in, INCIDENT_SUFFIX, file, sizeof(file));
      BundleDir_remove(dirFd, file);
      Util_error("bundle: the bundle of %s was not written: %s", in->service, err);
      return stopSignal ? 128 + stopSignal : STACKTOP_EXIT_FAILURE;
   }
   unsigned long long size = 0;
   size_t notes = 0;
   char state[JOB_RESULT_MAX] = "none";
   sscanf(end.outcome.result, "ok %llu %zu", &size, &notes);
   const char* nl = strchr(end.outcome.result, '\n');
   if (nl)
      Util_format(state, sizeof(state), "%s", nl + 1);
   const char* mail = "none (no mail_to)";
   if (strcmp(state, "queued") == 0)
      mail = sendMail(c, dirFd, in);
   else if (strncmp(state, "failed", 6) == 0)
      mail = state;
   printf("%s/%s.tar.gz: %llu bytes", c->bundleDir, in->name, size);
   if (notes)
      printf(", %zu item%s not collected (summary.txt says what and why)", notes, notes == 1 ? "" : "s");
   printf("; mail: %s\n", mail);
   return STACKTOP_EXIT_OK;
}

static int bundle(const WatchConfig* c, const WatchService* svc, const char* reasonArg) {
   char err[1024];
   int dirFd = BundleDir_open(c->bundleDir, true, err, sizeof(err));
   if (dirFd < 0) {
      Util_error("bundle: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   Sampler* s = sample(c, err, sizeof(err));
   if (!s) {
      Util_error("bundle: sampling failed: %s", err);
      close(dirFd);
      return STACKTOP_EXIT_FAILURE;
   }
   if (stopSignal) {
      Util_error("bundle: interrupted by signal %d; no bundle written", (int)stopSignal);
      Sampler_free(s);
      close(dirFd);
      return 128 + stopSignal;
   }
   size_t n;
   const ProcessSample** procs = Matcher_select(&svc->match, s, &n, NULL);
   int rc = STACKTOP_EXIT_FAILURE;
   Decision d = { 0 };
   if (n == 0) {
      char what[512];
      Matcher_describe(&svc->match, what, sizeof(what));
      Util_error("bundle: no process of %s is running (it matches %s); nothing to bundle", svc->name, what);
   } else if (decide(dirFd, c, svc->name, &d, err, sizeof(err)) < 0) {
      Util_error("bundle: %s", err);
   } else if (d.action != RULE_ACTION_FIRE) {
      refusal(c, svc->name, &d);
   } else {
      char name[300], reason[REASON_MAX + 64];
      double wall = Util_wallSeconds();
      Dispatch_nameIn(dirFd, c->hostname, svc->name, Rule_name(RULE_ON_DEMAND), wall, name, sizeof(name));
      if (reasonArg)
         Printable_copy(reason, sizeof(reason), reasonArg);
      else
         Util_format(reason, sizeof(reason), "asked for with stacktop bundle (uid %u)", (unsigned)getuid());
      Incident in;
      Incident_init(&in, name, svc->name, RULE_ON_DEMAND, "requested", 0, reason, wall);
      for (size_t i = 0; i < n; i++)
         Incident_addProcess(&in, procs[i]);
      rc = writeBundle(c, dirFd, s, &in);
      if (rc != STACKTOP_EXIT_OK)
         release(dirFd, c, svc->name);
      Incident_free(&in);
   }
   free(procs);
   Sampler_free(s);
   close(dirFd);
   return rc;
}

int BundleCli_main(int argc, char** argv) {
   BundleArgs a;
   if (parseArgs(&a, argc, argv) < 0)
      return STACKTOP_EXIT_USAGE;
   if (a.help) {
      Cli_printHelp(&command, stdout);
      return STACKTOP_EXIT_OK;
   }
   WatchConfig c;
   char err[1024];
   if (WatchConfig_load(&c, a.configPath, err, sizeof(err)) < 0) {
      Util_error("%s", err);
      return STACKTOP_EXIT_USAGE;
   }
   const WatchService* svc = WatchConfig_service(&c, a.service);
   int rc;
   if (!svc) {
      char name[128];
      Util_error("bundle: %s has no [service %s]; see 'stacktop watch -c %s --check-config' for its services",
                 a.configPath, Printable_copy(name, sizeof(name), a.service), a.configPath);
      rc = STACKTOP_EXIT_USAGE;
   } else if (!ArchiveApi_get(err, sizeof(err)) || (WatchConfig_mails(&c) && !CurlApi_get(err, sizeof(err)))) {
      Util_error("bundle: %s", err);
      rc = STACKTOP_EXIT_FAILURE;
   } else {
      WatchLog_open(false, false);
      catchStopSignals();
      rc = bundle(&c, svc, a.reason);
      WatchLog_close();
   }
   WatchConfig_free(&c);
   return rc;
}
