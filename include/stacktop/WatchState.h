#ifndef STACKTOP_WATCHSTATE_H
#define STACKTOP_WATCHSTATE_H
/* What the watcher must remember across restarts, and share with any other
 * stacktop process working on the same bundle_dir: per (service, rule) the
 * episode (failing, pending, when the last bundle came to exist), the
 * hourly cap's bundle times, and the bundles stacktop wrote, in the order it
 * wrote them (retention removes only those, oldest first by that order, never
 * by a file time a clock step could reorder).
 *
 * It lives in bundle_dir/state (text, replaced atomically) and is changed
 * only under an exclusive flock of bundle_dir/.lock: load, change, save,
 * unlock. Times are CLOCK_BOOTTIME seconds (WatchState_now), which never go
 * backwards; the file notes the boot and the wall clock at saving, so times
 * from an earlier boot are carried over by the wall clock (and never land in
 * the future). A crash loop therefore cannot re-bundle inside the cooldown
 * or past the cap. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Rules.h"

typedef struct WatchStateEpisode_ {
   char* service; /* the config's service name; "system" for the global rule */
   RuleKind rule;
   RuleEpisode episode;
} WatchStateEpisode;

typedef struct WatchStateBundle_ {
   unsigned long long seq; /* write order */
   unsigned long long size;
   char* stem; /* NAME of NAME.tar.gz */
} WatchStateBundle;

typedef struct WatchState_ {
   FloodCap cap;
   WatchStateEpisode* episodes;
   size_t episodeCount, episodeCap;
   WatchStateBundle* bundles; /* ascending seq */
   size_t bundleCount, bundleCap;
   unsigned long long nextSeq;
} WatchState;

/* The clock every stored time is on. */
double WatchState_now(void);

void WatchState_init(WatchState* this, unsigned maxPerHour);
void WatchState_free(WatchState* this);
/* Takes the exclusive lock of dirFd (waiting at most 5 s). Returns the lock
 * fd for WatchState_unlock, or -1 with a message. */
int WatchState_lock(int dirFd, char* err, size_t errSize);
void WatchState_unlock(int lockFd);
/* Replaces this state by dirFd/state (a missing file is an empty state; one
 * that cannot be parsed is moved aside as state.corrupt, logged by the caller
 * from err, and treated as empty: returns 1). The cap's maxPerHour is kept.
 * Returns 0, 1, or -1 with a message when it cannot be read at all. */
int WatchState_load(WatchState* this, int dirFd, char* err, size_t errSize);
int WatchState_save(const WatchState* this, int dirFd, char* err, size_t errSize);
/* A stamp of dirFd/state as last seen; true when it differs from *stamp
 * (then *stamp is updated). */
typedef struct WatchStateStamp_ {
   unsigned long long ino, size;
   long long mtimeNs;
} WatchStateStamp;
bool WatchState_changed(int dirFd, WatchStateStamp* stamp);

/* The episode of (service, rule), created empty when new. */
RuleEpisode* WatchState_episode(WatchState* this, const char* service, RuleKind rule);
/* Forgets the episodes of services not in keep (count names). */
void WatchState_retainServices(WatchState* this, const char* const* keep, size_t count);
/* Records a bundle stacktop wrote (NAME of NAME.tar.gz) as the newest. */
void WatchState_addBundle(WatchState* this, const char* stem, unsigned long long size);

/* Retention: removes the oldest recorded bundles (NAME.tar.gz and its
 * NAME.FAILED) beyond keep (0: no count limit) and while their total size
 * exceeds maxBytes (0: no limit), sparing the newest and those pinned(stem)
 * (a mail or incident still refers to them). Files stacktop did not record
 * are never touched. Returns how many it removed. */
size_t WatchState_prune(WatchState* this, int dirFd, unsigned long keep, unsigned long long maxBytes,
                        bool (*pinned)(void* ctx, const char* stem), void* ctx);

#endif
