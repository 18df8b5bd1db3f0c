#ifndef STACKTOP_RULES_H
#define STACKTOP_RULES_H
/* The watch rules as a pure state machine, no I/O:
 * - one table row per rule (Rules.c): its config name, unit, whether it is
 *   evaluated per process, how a sample is judged and how a value reads;
 * - per (process, rule): is this sample over the threshold? (consecutive
 *   sample counting for `for N`, growth only over a full window)
 * - per (service, rule): episodes. A rule fires when it starts failing, again
 *   only after `cooldown` while it keeps failing, and a new episode within
 *   `cooldown` of the last bundle is logged but not bundled; recovery is
 *   reported once. The cooldown runs from the moment the bundle exists
 *   (Rules_bundled), not from the decision to write one: while a bundle is
 *   pending nothing else fires for that (service, rule);
 * - a global flood cap: at most N bundles in any sliding hour.
 * Times are seconds on a clock that never goes backwards (the watcher uses
 * CLOCK_BOOTTIME, carried across restarts by WatchState). */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/History.h"

typedef enum RuleKind_ {
   RULE_CPU_ABOVE,
   RULE_RES_ABOVE,
   RULE_RES_GROWTH_ABOVE,
   RULE_THREADS_ABOVE,
   RULE_THREAD_GROWTH_ABOVE,
   RULE_FDS_ABOVE,
   RULE_GOROUTINES_ABOVE,       /* Go services: goroutines (like runtime.NumGoroutine) */
   RULE_GOROUTINE_GROWTH_ABOVE, /* Go services: goroutines gained per minute over a window */
   RULE_RESTART,
   RULE_SYSTEM_MEM_BELOW,
   /* Not a rule of the config: a bundle asked for from outside (an
    * Alertmanager alert, `stacktop bundle`). Its episode gives such requests
    * the cooldown and the hourly cap of the rules. */
   RULE_ON_DEMAND,
   RULE_KIND_COUNT,
} RuleKind;

/* Config key of a rule ("cpu_above"), also its name in bundles and logs. */
const char* Rule_name(RuleKind kind);
/* The rule named so, or -1. */
int Rule_byName(const char* name);
/* Unit of Rule values for messages: "%", "KiB", "KiB/min", "threads", ... */
const char* Rule_unit(RuleKind kind);
/* Whether the rule is evaluated per process (all but restart and system memory). */
bool Rule_isPerProcess(RuleKind kind);
/* Whether the rule measures growth over a window (`RATE over WINDOW`). */
bool Rule_isGrowth(RuleKind kind);
/* Whether the rule needs the goroutines of a Go process. */
bool Rule_needsGoroutines(RuleKind kind);
/* Whether the rule is set in the config (all but on_demand). */
bool Rule_isConfigured(RuleKind kind);
/* Every configurable rule name, comma separated in table order, for messages. */
const char* Rule_names(void);
/* A value or threshold in the rule's unit as Prometheus base units (a ratio
 * for percentages, bytes, per second); NAN for rules without a value
 * (restart, on_demand). */
double Rule_toBase(RuleKind kind, double value);
/* The base unit of Rule_toBase ("ratio", "bytes", "bytes_per_second", ...), "" without a value. */
const char* Rule_baseUnit(RuleKind kind);
/* A measured value in words: "CPU 97.3% of one core", "RES growing +12.0M/h". */
void Rule_describe(RuleKind kind, double value, char* buf, size_t size);

typedef struct RuleSpec_ {
   bool enabled;
   double threshold;    /* cpu: % of one core; res: KiB; growth: per minute (KiB,
                         * threads or goroutines); threads, goroutines: count; fds: % of the soft limit;
                         * system memory: % of MemTotal still available */
   unsigned forSamples; /* consecutive samples over the threshold, >= 1 */
   double windowS;      /* growth rules: the window */
} RuleSpec;

/* What one process looked like at one sample. */
typedef struct RuleInput_ {
   const History* history; /* newest sample last; may be NULL for fds-only use */
   double intervalS;       /* configured sampling interval (window tolerance) */
   double fdsPct;          /* open fds as % of RLIMIT_NOFILE soft; < 0 unknown */
} RuleInput;

typedef enum RuleVerdict_ {
   RULE_UNDER,
   RULE_OVER,
   RULE_NOT_READY, /* not enough samples yet (growth window not full, no CPU delta) */
} RuleVerdict;

/* Per (process, rule) memory between samples. Zero-initialised = fresh. */
typedef struct RuleProcessState_ {
   unsigned consecutive;
} RuleProcessState;

/* Evaluates a per-process rule on the newest sample; *value gets the measured
 * figure (in the rule's unit) when the verdict is not RULE_NOT_READY. */
RuleVerdict Rules_evaluate(RuleKind kind, const RuleSpec* spec, const RuleInput* input, RuleProcessState* state,
                           double* value);
/* The system memory rule: over when available% < threshold, `for N` samples. */
RuleVerdict Rules_evaluateSystemMem(const RuleSpec* spec, double availablePct, RuleProcessState* state);

/* Samples a --once run needs before the rule has had its whole window. */
unsigned Rules_samplesNeeded(RuleKind kind, const RuleSpec* spec, double intervalS);

/* ---- episodes per (service, rule) */
typedef enum RuleAction_ {
   RULE_ACTION_NONE,
   RULE_ACTION_FIRE,              /* write a bundle now */
   RULE_ACTION_SUPPRESS_COOLDOWN, /* new episode inside the cooldown: log only */
   RULE_ACTION_SUPPRESS_PENDING,  /* new episode while the last bundle is still pending: log only */
   RULE_ACTION_SUPPRESS_CAP,      /* the flood cap is reached: log only (once per episode) */
   RULE_ACTION_RECOVERED,         /* the episode ended */
} RuleAction;

typedef struct RuleEpisode_ {
   bool failing; /* inside an episode */
   bool firedThisEpisode;
   bool capLogged; /* the cap suppression was already reported this episode */
   bool everFired;
   bool pending;       /* fired, the bundle does not exist yet */
   double lastFiredAt; /* when the last bundle came to exist */
} RuleEpisode;

/* A sliding one-hour window of bundle times. */
#define RULES_CAP_MAX 1024
typedef struct FloodCap_ {
   unsigned maxPerHour; /* 0: no cap */
   double times[RULES_CAP_MAX];
   size_t count;
} FloodCap;

void FloodCap_init(FloodCap* this, unsigned maxPerHour);
bool FloodCap_allows(FloodCap* this, double now);
void FloodCap_record(FloodCap* this, double now);

/* Advances an episode by one sample. FIRE takes a place in the cap and marks
 * the episode pending: the caller writes exactly one bundle for it and then
 * calls Rules_bundled (or Rules_dropped if the incident is abandoned). */
RuleAction Rules_step(RuleEpisode* this, bool failingNow, double now, double cooldownS, FloodCap* cap);
/* Restart is an event, not a condition: a fire attempt that ignores the
 * "once per episode" part but honours pending, cooldown and cap. */
RuleAction Rules_event(RuleEpisode* this, double now, double cooldownS, FloodCap* cap);
/* The pending bundle exists now: the cooldown starts. */
void Rules_bundled(RuleEpisode* this, double now);
/* The pending incident was given up: a still failing rule may fire again. */
void Rules_dropped(RuleEpisode* this);

#endif
