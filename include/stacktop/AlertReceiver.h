#ifndef STACKTOP_ALERTRECEIVER_H
#define STACKTOP_ALERTRECEIVER_H
/* The Alertmanager webhook receiver of `stacktop watch` (POST /alertmanager
 * on alert_listen; the bearer token is HttpServer's). For each alert of the
 * payload (AlertPayload.h):
 * - resolved: logged only;
 * - unusable, without the service label (alert_service_label, default
 *   groupname), naming no [service] (nor "system", the whole host), or whose
 *   host (label alert_host_label, default host, else the host part of
 *   `instance`) is not this host's `hostname`: rejected, because that is a
 *   rule or routing mistake that a retry cannot fix;
 * - an episode (fingerprint + startsAt) already handled, here or before a
 *   restart (AlertSeen in bundle_dir): a duplicate, nothing done;
 * - else the watcher is asked for a bundle (AlertTarget.capture), which
 *   honours the cooldown and the hourly cap: captured (queued, written by a
 *   background job), suppressed, or a transient failure (bundle_dir
 *   unusable).
 * The answer comes at once: 503 when any alert met a transient failure (so
 * Alertmanager retries the whole notification; what was handled is then a
 * duplicate), else 422 when any was rejected (Alertmanager does not retry a
 * 4xx, and logs it), else 200; 400 for a body that is not a version 4
 * payload. One line per alert says what happened. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/AlertPayload.h"
#include "stacktop/HttpServer.h"
#include "stacktop/WatchConfig.h"

typedef enum AlertOutcome_ {
   ALERT_CAPTURED,
   ALERT_DUPLICATE,
   ALERT_SUPPRESSED,
   ALERT_REJECTED,
   ALERT_RETRY,
   ALERT_RESOLVED,
   ALERT_OUTCOME_COUNT,
} AlertOutcome;

/* "captured", "duplicate", ... (the outcome label of stacktop_alerts_total). */
const char* AlertOutcome_name(AlertOutcome outcome);

/* What the receiver needs from the watcher. */
typedef struct AlertTarget_ {
   void* ctx;
   /* bundle_dir (for the episodes already handled), or -1 with why. */
   int (*dirFd)(void* ctx, char* why, size_t whySize);
   /* A bundle of service for the alert: ALERT_CAPTURED, ALERT_SUPPRESSED
    * or ALERT_RETRY, with a few words in why. */
   AlertOutcome (*capture)(void* ctx, const char* service, const Alert* alert, const char* receiver, char* why,
                           size_t whySize);
   /* Counted for the metrics (may be NULL). */
   void (*count)(void* ctx, AlertOutcome outcome);
} AlertTarget;

/* Pure: whether an alert may ask for a bundle here. Returns true with the
 * service it names in *service, or false with the outcome (rejected or
 * resolved) in *outcome and the reason in why. */
bool AlertReceiver_judge(const WatchConfig* config, const Alert* alert, const char** service, AlertOutcome* outcome,
                         char* why, size_t whySize);
/* The route's handler: request in, response out. */
void AlertReceiver_handle(const WatchConfig* config, const AlertTarget* target, const HttpRequest* request,
                          HttpResponse* response);

#endif
