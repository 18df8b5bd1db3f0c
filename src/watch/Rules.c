/* Rule verdicts and episode bookkeeping; see Rules.h for the semantics. */
#include "stacktop/Rules.h"

#include <math.h>
#include <string.h>

typedef struct RuleInfo_ {
   const char* name;
   const char* unit;
   bool perProcess;
} RuleInfo;

static const RuleInfo ruleInfo[RULE_KIND_COUNT] = {
   [RULE_CPU_ABOVE] = { .name = "cpu_above", .unit = "%", .perProcess = true },
   [RULE_RES_ABOVE] = { .name = "res_above", .unit = "KiB", .perProcess = true },
   [RULE_RES_GROWTH_ABOVE] = { .name = "res_growth_above", .unit = "KiB/min", .perProcess = true },
   [RULE_THREADS_ABOVE] = { .name = "threads_above", .unit = "threads", .perProcess = true },
   [RULE_THREAD_GROWTH_ABOVE] = { .name = "thread_growth_above", .unit = "threads/min", .perProcess = true },
   [RULE_FDS_ABOVE] = { .name = "fds_above", .unit = "% of open-files limit", .perProcess = true },
   [RULE_RESTART] = { .name = "restart", .unit = "", .perProcess = false },
   [RULE_SYSTEM_MEM_BELOW] = { .name = "system_mem_available_below", .unit = "% available", .perProcess = false },
};

const char* Rule_name(RuleKind kind) {
   return ruleInfo[kind].name;
}

const char* Rule_unit(RuleKind kind) {
   return ruleInfo[kind].unit;
}

bool Rule_isPerProcess(RuleKind kind) {
   return ruleInfo[kind].perProcess;
}

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

RuleVerdict Rules_evaluate(RuleKind kind, const RuleSpec* spec, const RuleInput* in, RuleProcessState* state,
                           double* value) {
   const HistorySample* last = in->history ? History_last(in->history) : NULL;
   switch (kind) {
   case RULE_CPU_ABOVE:
      /* The first sample of a process has no tick delta yet. */
      if (!last || History_count(in->history) < 2)
         return RULE_NOT_READY;
      *value = last->cpuPct;
      return countConsecutive(spec, last->cpuPct > spec->threshold, state);
   case RULE_RES_ABOVE:
      if (!last)
         return RULE_NOT_READY;
      *value = (double)last->resKiB;
      return countConsecutive(spec, *value > spec->threshold, state);
   case RULE_THREADS_ABOVE:
      if (!last)
         return RULE_NOT_READY;
      *value = (double)last->threads;
      return countConsecutive(spec, *value > spec->threshold, state);
   case RULE_FDS_ABOVE:
      if (in->fdsPct < 0)
         return RULE_NOT_READY;
      *value = in->fdsPct;
      return countConsecutive(spec, *value > spec->threshold, state);
   case RULE_RES_GROWTH_ABOVE: return growth(spec, in, HISTORY_RES, value);
   case RULE_THREAD_GROWTH_ABOVE: return growth(spec, in, HISTORY_THREADS, value);
   case RULE_RESTART:
   case RULE_SYSTEM_MEM_BELOW:
   case RULE_KIND_COUNT: break;
   }
   return RULE_NOT_READY;
}

RuleVerdict Rules_evaluateSystemMem(const RuleSpec* spec, double availablePct, RuleProcessState* state) {
   return countConsecutive(spec, availablePct < spec->threshold, state);
}

unsigned Rules_samplesNeeded(RuleKind kind, const RuleSpec* spec, double intervalS) {
   switch (kind) {
   case RULE_CPU_ABOVE: return spec->forSamples + 1;
   case RULE_RES_GROWTH_ABOVE:
   case RULE_THREAD_GROWTH_ABOVE: return (unsigned)ceil(spec->windowS / intervalS - 1e-9) + 1;
   case RULE_RESTART: return 2;
   default: return spec->forSamples > 0 ? spec->forSamples : 1;
   }
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
   if (this->maxPerHour == 0)
      return;
   forgetOld(this, now);
   if (this->count < RULES_CAP_MAX)
      this->times[this->count++] = now;
}

/* A fire attempt: cooldown first (quiet), then the cap (logged once). */
static RuleAction tryFire(RuleEpisode* this, double now, double cooldownS, FloodCap* cap) {
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
   this->everFired = true;
   this->firedThisEpisode = true;
   this->lastFiredAt = now;
   return RULE_ACTION_FIRE;
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
      RuleAction a = tryFire(this, now, cooldownS, cap);
      return a == RULE_ACTION_NONE ? RULE_ACTION_SUPPRESS_COOLDOWN : a;
   }
   return tryFire(this, now, cooldownS, cap);
}

RuleAction Rules_event(RuleEpisode* this, double now, double cooldownS, FloodCap* cap) {
   this->capLogged = false;
   RuleAction a = tryFire(this, now, cooldownS, cap);
   return a == RULE_ACTION_NONE ? RULE_ACTION_SUPPRESS_COOLDOWN : a;
}
