/* Rule verdicts and episode bookkeeping; see Rules.h for the semantics. */
#include "stacktop/Rules.h"

#include <math.h>
#include <string.h>

#include "stacktop/Format.h"
#include "stacktop/Util.h"

/* Judges one process at one sample (per-process rules only). */
typedef RuleVerdict (*RuleEvaluate)(const RuleSpec* spec, const RuleInput* in, RuleProcessState* state, double* value);
typedef void (*RuleDescribe)(double value, char* buf, size_t size);

typedef struct RuleInfo_ {
   const char* name;
   const char* unit;
   RuleEvaluate evaluate; /* NULL: not per process */
   RuleDescribe describe;
   bool windowed;   /* needs its whole window before a --once run may end */
   bool goroutines; /* reads the goroutine count (Go services only) */
   bool request;    /* not configured: a bundle asked for from outside */
   double toBase;   /* value * toBase = Prometheus base units; 0: no value */
   const char* baseUnit;
} RuleInfo;

/* Counts consecutive samples over the threshold; over once `for N` is reached. */
static RuleVerdict countConsecutive(const RuleSpec* spec, bool over, RuleProcessState* state) {
   if (!over) {
      state->consecutive = 0;
      return RULE_UNDER;
   }
   if (state->consecutive < spec->forSamples)
      state->consecutive++;
   return state->consecutive >= spec->forSamples ? RULE_OVER : RULE_UNDER;
}

/* Growth of the lower envelope over a full window only: a fresh process
 * would otherwise extrapolate start-up allocation into a leak. */
static RuleVerdict growth(const RuleSpec* spec, const RuleInput* in, HistorySeries series, double* value) {
   if (!in->history)
      return RULE_NOT_READY;
   double tolerance = in->intervalS / 2;
   bool ok = false;
   double slope =
       History_growthPerMinute(in->history, series, spec->windowS + tolerance, spec->windowS - tolerance, &ok);
   if (!ok)
      return RULE_NOT_READY;
   *value = slope;
   return slope > spec->threshold ? RULE_OVER : RULE_UNDER;
}

static RuleVerdict evalCpu(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   /* The first sample of a process has no tick delta yet. */
   const HistorySample* last = in->history ? History_last(in->history) : NULL;
   if (!last || History_count(in->history) < 2)
      return RULE_NOT_READY;
   *value = last->cpuPct;
   return countConsecutive(spec, last->cpuPct > spec->threshold, st);
}

static RuleVerdict evalRes(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   const HistorySample* last = in->history ? History_last(in->history) : NULL;
   if (!last)
      return RULE_NOT_READY;
   *value = (double)last->resKiB;
   return countConsecutive(spec, *value > spec->threshold, st);
}

static RuleVerdict evalThreads(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   const HistorySample* last = in->history ? History_last(in->history) : NULL;
   if (!last)
      return RULE_NOT_READY;
   *value = (double)last->threads;
   return countConsecutive(spec, *value > spec->threshold, st);
}

/* Not a Go process (or not readable): never judged, never fires. */
static RuleVerdict evalGoroutines(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   const HistorySample* last = in->history ? History_last(in->history) : NULL;
   if (!last || last->goroutines < 0)
      return RULE_NOT_READY;
   *value = (double)last->goroutines;
   return countConsecutive(spec, *value > spec->threshold, st);
}

static RuleVerdict evalGoroutineGrowth(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   (void)st;
   return growth(spec, in, HISTORY_GOROUTINES, value);
}

static RuleVerdict evalFds(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   if (in->fdsPct < 0)
      return RULE_NOT_READY;
   *value = in->fdsPct;
   return countConsecutive(spec, *value > spec->threshold, st);
}

static RuleVerdict evalResGrowth(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   (void)st;
   return growth(spec, in, HISTORY_RES, value);
}

static RuleVerdict evalThreadGrowth(const RuleSpec* spec, const RuleInput* in, RuleProcessState* st, double* value) {
   (void)st;
   return growth(spec, in, HISTORY_THREADS, value);
}

static void describeCpu(double v, char* buf, size_t size) {
   Util_format(buf, size, "CPU %.1f%% of one core", v);
}

static void describeRes(double v, char* buf, size_t size) {
   char k[16];
   Format_kib(k, sizeof(k), (unsigned long long)(v > 0 ? v : 0));
   Util_format(buf, size, "RES %s", k);
}

static void describeResGrowth(double v, char* buf, size_t size) {
   char k[16];
   Format_kib(k, sizeof(k), (unsigned long long)fabs(v * 60));
   Util_format(buf, size, "RES growing %s%s/h", v < 0 ? "-" : "+", k);
}

static void describeThreads(double v, char* buf, size_t size) {
   Util_format(buf, size, "%.0f threads", v);
}

static void describeThreadGrowth(double v, char* buf, size_t size) {
   Util_format(buf, size, "threads growing %+.1f/h", v * 60);
}

static void describeGoroutines(double v, char* buf, size_t size) {
   Util_format(buf, size, "%.0f goroutines", v);
}

static void describeGoroutineGrowth(double v, char* buf, size_t size) {
   Util_format(buf, size, "goroutines growing %+.1f/h", v * 60);
}

static void describeFds(double v, char* buf, size_t size) {
   Util_format(buf, size, "%.1f%% of the open-files limit in use", v);
}

static void describeRestart(double v, char* buf, size_t size) {
   (void)v;
   Util_format(buf, size, "a process of the service went away");
}

static void describeSystemMem(double v, char* buf, size_t size) {
   Util_format(buf, size, "%.1f%% of memory available", v);
}

static void describeOnDemand(double v, char* buf, size_t size) {
   (void)v;
   Util_format(buf, size, "a bundle was asked for");
}

static const RuleInfo ruleInfo[RULE_KIND_COUNT] = {
   [RULE_CPU_ABOVE] = { .name = "cpu_above",
                        .unit = "%",
                        .evaluate = evalCpu,
                        .describe = describeCpu,
                        .toBase = 0.01,
                        .baseUnit = "ratio" },
   [RULE_RES_ABOVE] = { .name = "res_above",
                        .unit = "KiB",
                        .evaluate = evalRes,
                        .describe = describeRes,
                        .toBase = 1024.0,
                        .baseUnit = "bytes" },
   [RULE_RES_GROWTH_ABOVE] = { .name = "res_growth_above",
                               .unit = "KiB/min",
                               .evaluate = evalResGrowth,
                               .describe = describeResGrowth,
                               .windowed = true,
                               .toBase = 1024.0 / 60.0,
                               .baseUnit = "bytes_per_second" },
   [RULE_THREADS_ABOVE] = { .name = "threads_above",
                            .unit = "threads",
                            .evaluate = evalThreads,
                            .describe = describeThreads,
                            .toBase = 1.0,
                            .baseUnit = "threads" },
   [RULE_THREAD_GROWTH_ABOVE] = { .name = "thread_growth_above",
                                  .unit = "threads/min",
                                  .evaluate = evalThreadGrowth,
                                  .describe = describeThreadGrowth,
                                  .windowed = true,
                                  .toBase = 1.0 / 60.0,
                                  .baseUnit = "threads_per_second" },
   [RULE_FDS_ABOVE] = { .name = "fds_above",
                        .unit = "% of open-files limit",
                        .evaluate = evalFds,
                        .describe = describeFds,
                        .toBase = 0.01,
                        .baseUnit = "ratio" },
   [RULE_GOROUTINES_ABOVE] = { .name = "goroutines_above",
                               .unit = "goroutines",
                               .evaluate = evalGoroutines,
                               .describe = describeGoroutines,
                               .goroutines = true,
                               .toBase = 1.0,
                               .baseUnit = "goroutines" },
   [RULE_GOROUTINE_GROWTH_ABOVE] = { .name = "goroutine_growth_above",
                                     .unit = "goroutines/min",
                                     .evaluate = evalGoroutineGrowth,
                                     .describe = describeGoroutineGrowth,
                                     .windowed = true,
                                     .goroutines = true,
                                     .toBase = 1.0 / 60.0,
                                     .baseUnit = "goroutines_per_second" },
   [RULE_RESTART] = { .name = "restart", .unit = "", .describe = describeRestart },
   [RULE_SYSTEM_MEM_BELOW] = { .name = "system_mem_available_below",
                               .unit = "% available",
                               .describe = describeSystemMem,
                               .toBase = 0.01,
                               .baseUnit = "ratio" },
   [RULE_ON_DEMAND] = { .name = "on_demand", .unit = "", .describe = describeOnDemand, .request = true },
};

const char* Rule_name(RuleKind kind) {
   return ruleInfo[kind].name;
}

int Rule_byName(const char* name) {
   for (int k = 0; k < RULE_KIND_COUNT; k++) {
      if (strcmp(ruleInfo[k].name, name) == 0)
         return k;
   }
   return -1;
}

const char* Rule_unit(RuleKind kind) {
   return ruleInfo[kind].unit;
}

bool Rule_isPerProcess(RuleKind kind) {
   return ruleInfo[kind].evaluate != NULL;
}

bool Rule_isGrowth(RuleKind kind) {
   return ruleInfo[kind].windowed;
}

bool Rule_needsGoroutines(RuleKind kind) {
   return ruleInfo[kind].goroutines;
}

bool Rule_isConfigured(RuleKind kind) {
   return !ruleInfo[kind].request;
}

const char* Rule_names(void) {
   static char names[512];
   if (names[0])
      return names;
   size_t used = 0;
   for (int k = 0; k < RULE_KIND_COUNT && used < sizeof(names); k++) {
      if (!ruleInfo[k].request)
         used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", ruleInfo[k].name);
   }
   return names;
}

double Rule_toBase(RuleKind kind, double value) {
   return ruleInfo[kind].toBase != 0 ? value * ruleInfo[kind].toBase : NAN;
}

const char* Rule_baseUnit(RuleKind kind) {
   return ruleInfo[kind].baseUnit ? ruleInfo[kind].baseUnit : "";
}

void Rule_describe(RuleKind kind, double value, char* buf, size_t size) {
   ruleInfo[kind].describe(value, buf, size);
}

RuleVerdict Rules_evaluate(RuleKind kind, const RuleSpec* spec, const RuleInput* in, RuleProcessState* state,
                           double* value) {
   if (kind >= RULE_KIND_COUNT || !ruleInfo[kind].evaluate)
      return RULE_NOT_READY;
   return ruleInfo[kind].evaluate(spec, in, state, value);
}

RuleVerdict Rules_evaluateSystemMem(const RuleSpec* spec, double availablePct, RuleProcessState* state) {
   return countConsecutive(spec, availablePct < spec->threshold, state);
}

unsigned Rules_samplesNeeded(RuleKind kind, const RuleSpec* spec, double intervalS) {
   if (ruleInfo[kind].windowed)
      return (unsigned)ceil(spec->windowS / intervalS - 1e-9) + 1;
   if (kind == RULE_CPU_ABOVE)
      return spec->forSamples + 1; /* the first sample has no CPU delta */
   if (kind == RULE_RESTART)
      return 2;
   return spec->forSamples > 0 ? spec->forSamples : 1;
}

void FloodCap_init(FloodCap* this, unsigned maxPerHour) {
   memset(this, 0, sizeof(*this));
   this->maxPerHour = maxPerHour > RULES_CAP_MAX ? RULES_CAP_MAX : maxPerHour;
}

static void forgetOld(FloodCap* this, double now) {
   size_t keep = 0;
   for (size_t i = 0; i < this->count; i++) {
      if (now - this->times[i] < 3600.0)
         this->times[keep++] = this->times[i];
   }
   this->count = keep;
}

bool FloodCap_allows(FloodCap* this, double now) {
   if (this->maxPerHour == 0)
      return true;
   forgetOld(this, now);
   return this->count < this->maxPerHour;
}

void FloodCap_record(FloodCap* this, double now) {
   forgetOld(this, now);
   if (this->count < RULES_CAP_MAX)
      this->times[this->count++] = now;
}

/* A fire attempt: pending and cooldown first (quiet), then the cap (logged once). */
static RuleAction tryFire(RuleEpisode* this, double now, double cooldownS, FloodCap* cap) {
   if (this->pending)
      return RULE_ACTION_NONE;
   if (this->everFired && now - this->lastFiredAt < cooldownS)
      return RULE_ACTION_NONE;
   if (!FloodCap_allows(cap, now)) {
      if (this->capLogged)
         return RULE_ACTION_NONE;
      this->capLogged = true;
      return RULE_ACTION_SUPPRESS_CAP;
   }
   FloodCap_record(cap, now);
   this->capLogged = false;
   this->firedThisEpisode = true;
   this->pending = true;
   return RULE_ACTION_FIRE;
}

/* Why a fire attempt at the start of an episode did nothing. */
static RuleAction quietReason(const RuleEpisode* this, RuleAction a) {
   if (a != RULE_ACTION_NONE)
      return a;
   return this->pending ? RULE_ACTION_SUPPRESS_PENDING : RULE_ACTION_SUPPRESS_COOLDOWN;
}

RuleAction Rules_step(RuleEpisode* this, bool failingNow, double now, double cooldownS, FloodCap* cap) {
   if (!failingNow) {
      if (!this->failing)
         return RULE_ACTION_NONE;
      this->failing = false;
      return RULE_ACTION_RECOVERED;
   }
   if (!this->failing) {
      this->failing = true;
      this->firedThisEpisode = false;
      this->capLogged = false;
      return quietReason(this, tryFire(this, now, cooldownS, cap));
   }
   return tryFire(this, now, cooldownS, cap);
}

RuleAction Rules_event(RuleEpisode* this, double now, double cooldownS, FloodCap* cap) {
   this->capLogged = false;
   return quietReason(this, tryFire(this, now, cooldownS, cap));
}

void Rules_bundled(RuleEpisode* this, double now) {
   this->pending = false;
   this->everFired = true;
   this->lastFiredAt = now;
}

void Rules_dropped(RuleEpisode* this) {
   this->pending = false;
   this->firedThisEpisode = false;
}
