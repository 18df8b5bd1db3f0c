#ifndef STACKTOP_ALERTSEEN_H
#define STACKTOP_ALERTSEEN_H
/* The Alertmanager alert episodes the receiver already handled, so that the
 * same alert sent again (Alertmanager's retries, group_interval and
 * repeat_interval re-sends, a watcher restarted in between) is not captured
 * twice. An episode is fingerprint + startsAt; an entry is kept while
 * Alertmanager keeps sending it and forgotten ALERTSEEN_FORGET_S after it
 * was last seen, and at most ALERTSEEN_MAX entries are kept (the longest
 * unseen go first).
 *
 * It lives in bundle_dir/alerts-seen (text, replaced atomically); callers
 * change it under WatchState_lock: load, change, save. A damaged line is
 * skipped. */
#include <stdbool.h>
#include <stddef.h>

#define ALERTSEEN_MAX 4096
#define ALERTSEEN_FORGET_S (7 * 24 * 3600.0)
#define ALERTSEEN_FIELD_MAX 64

typedef struct AlertSeenEntry_ {
   char fingerprint[ALERTSEEN_FIELD_MAX + 1];
   char startsAt[ALERTSEEN_FIELD_MAX + 1];
   double lastSeen; /* wall clock */
} AlertSeenEntry;

typedef struct AlertSeen_ {
   AlertSeenEntry* items;
   size_t count, cap;
} AlertSeen;

void AlertSeen_init(AlertSeen* this);
void AlertSeen_free(AlertSeen* this);
/* Replaces this by dirFd/alerts-seen (missing: empty). Returns 0, or -1 with a message. */
int AlertSeen_load(AlertSeen* this, int dirFd, char* err, size_t errSize);
/* Forgets old entries (see above) and writes dirFd/alerts-seen. Returns 0, or -1 with a message. */
int AlertSeen_save(AlertSeen* this, int dirFd, double now, char* err, size_t errSize);
/* Whether the episode is known; a known one is marked seen at now. */
bool AlertSeen_check(AlertSeen* this, const char* fingerprint, const char* startsAt, double now);
/* Remembers the episode as handled at now. Fields longer than
 * ALERTSEEN_FIELD_MAX or with blanks are not stored (the payload parser
 * never gives such). */
void AlertSeen_add(AlertSeen* this, const char* fingerprint, const char* startsAt, double now);

#endif
