/* The Alertmanager webhook receiver; see AlertReceiver.h. */
#include "stacktop/AlertReceiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stacktop/AlertSeen.h"
#include "stacktop/Printable.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"
#include "stacktop/WatchState.h"

/* The whole host, for alerts such as "memory available below 10%". */
#define SYSTEM_SERVICE "system"

static const char* const outcomeNames[ALERT_OUTCOME_COUNT] = {
   [ALERT_CAPTURED] = "captured", [ALERT_DUPLICATE] = "duplicate", [ALERT_SUPPRESSED] = "suppressed",
   [ALERT_REJECTED] = "rejected", [ALERT_RETRY] = "retry",         [ALERT_RESOLVED] = "resolved",
};

const char* AlertOutcome_name(AlertOutcome outcome) {
   return outcome < ALERT_OUTCOME_COUNT ? outcomeNames[outcome] : "?";
}

/* The host part of an instance label: "hosta:9256" -> "hosta", "[::1]:9" -> "::1". */
static void instanceHost(const char* instance, char* buf, size_t size) {
   if (instance[0] == '[') {
      const char* close = strchr(instance, ']');
      Util_format(buf, size, "%.*s", close ? (int)(close - instance - 1) : 0, instance + 1);
      return;
   }
   const char* colon = strrchr(instance, ':');
   Util_format(buf, size, "%.*s", colon ? (int)(colon - instance) : (int)strlen(instance), instance);
}

/* The alert's host names this one: the same name (case aside), or this
 * host's name without its domain when the alert gives a short name. */
static bool sameHost(const char* alertHost, const char* hostname) {
   if (strcasecmp(alertHost, hostname) == 0)
      return true;
   size_t shortLen = strcspn(hostname, ".");
   return !strchr(alertHost, '.') && strlen(alertHost) == shortLen && strncasecmp(alertHost, hostname, shortLen) == 0;
}

bool AlertReceiver_judge(const WatchConfig* config, const Alert* alert, const char** service, AlertOutcome* outcome,
                         char* why, size_t whySize) {
   *service = NULL;
   *outcome = ALERT_REJECTED;
   if (alert->invalid[0]) {
      Util_format(why, whySize, "%s", alert->invalid);
      return false;
   }
   if (!alert->firing) {
      *outcome = ALERT_RESOLVED;
      Util_format(why, whySize, "status %s: nothing to capture", alert->status);
      return false;
   }
   const char* name = Alert_label(alert, config->alertServiceLabel);
   if (!name) {
      Util_format(why, whySize, "no label %s naming the service; expected one of the [service] names or %s",
                  config->alertServiceLabel, SYSTEM_SERVICE);
      return false;
   }
   if (!WatchConfig_service(config, name) && strcmp(name, SYSTEM_SERVICE) != 0) {
      Util_format(why, whySize, "%s=%s is no [service] here; expected one of the [service] names or %s",
                  config->alertServiceLabel, name, SYSTEM_SERVICE);
      return false;
   }
   char host[256];
   const char* label = Alert_label(alert, config->alertHostLabel);
   const char* instance = Alert_label(alert, "instance");
   if (label)
      Util_format(host, sizeof(host), "%s", label);
   else if (instance)
      instanceHost(instance, host, sizeof(host));
   else {
      Util_format(why, whySize, "no label %s or instance naming the host; expected %s=%s", config->alertHostLabel,
                  config->alertHostLabel, config->hostname);
      return false;
   }
   if (!sameHost(host, config->hostname)) {
      Util_format(why, whySize, "for host %s, this is %s: a routing mistake (expected a route per host)", host,
                  config->hostname);
      return false;
   }
   *service = name;
   return true;
}

/* ---- the handler */

typedef struct Reply_ {
   FILE* f;
   char* text;
   size_t len;
   bool retry, rejected;
} Reply;

static void outcome(const AlertTarget* t, Reply* r, const Alert* a, AlertOutcome o, const char* why) {
   if (t->count)
      t->count(t->ctx, o);
   r->retry |= o == ALERT_RETRY;
   r->rejected |= o == ALERT_REJECTED;
   const char* name = Alert_label(a, "alertname");
   char safeName[160], safeWhy[700];
   Printable_copy(safeName, sizeof(safeName), name ? name : "?");
   Printable_copy(safeWhy, sizeof(safeWhy), why);
   if (r->f)
      fprintf(r->f, "%s %s (fingerprint %s): %s\n", AlertOutcome_name(o), safeName,
              a->fingerprint && !a->invalid[0] ? a->fingerprint : "?", safeWhy);
   static const WatchLogLevel levels[ALERT_OUTCOME_COUNT] = {
      [ALERT_CAPTURED] = WATCHLOG_NOTICE,  [ALERT_DUPLICATE] = WATCHLOG_INFO, [ALERT_SUPPRESSED] = WATCHLOG_NOTICE,
      [ALERT_REJECTED] = WATCHLOG_WARNING, [ALERT_RETRY] = WATCHLOG_ERROR,    [ALERT_RESOLVED] = WATCHLOG_INFO,
   };
   WatchLog_write(levels[o], NULL, "Alertmanager alert %s %s: %s", safeName, AlertOutcome_name(o), safeWhy);
}

/* The episodes already handled, read under the state lock. */
static bool loadSeen(int dirFd, AlertSeen* seen, char* why, size_t whySize) {
   int lock = WatchState_lock(dirFd, why, whySize);
   if (lock < 0)
      return false;
   bool ok = AlertSeen_load(seen, dirFd, why, whySize) == 0;
   WatchState_unlock(lock);
   return ok;
}

/* Adds what this payload handled to the file as it is now (another process may have written it). */
static void storeSeen(int dirFd, const AlertPayload* p, const bool* handled) {
   char why[512];
   AlertSeen seen;
   AlertSeen_init(&seen);
   int lock = WatchState_lock(dirFd, why, sizeof(why));
   double now = Util_wallSeconds();
   if (lock >= 0 && AlertSeen_load(&seen, dirFd, why, sizeof(why)) == 0) {
      for (size_t i = 0; i < p->alertCount; i++) {
         if (handled[i])
            AlertSeen_add(&seen, p->alerts[i].fingerprint, p->alerts[i].startsAt, now);
      }
      if (AlertSeen_save(&seen, dirFd, now, why, sizeof(why)) == 0)
         why[0] = '\0';
   }
   WatchState_unlock(lock);
   AlertSeen_free(&seen);
   if (why[0] && lock >= 0)
      WatchLog_write(WATCHLOG_ERROR, NULL,
                     "the alerts handled are not remembered (%s): the same alerts sent again may be captured again "
                     "after the cooldown",
                     why);
   else if (lock < 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "the alerts handled are not remembered: %s", why);
}

static void handleAlerts(const WatchConfig* c, const AlertTarget* t, const AlertPayload* p, Reply* r) {
   char why[768] = "";
   int dirFd = t->dirFd(t->ctx, why, sizeof(why));
   AlertSeen seen;
   AlertSeen_init(&seen);
   bool seenOk = dirFd >= 0 && loadSeen(dirFd, &seen, why, sizeof(why));
   bool* handled = Util_xcalloc(p->alertCount ? p->alertCount : 1, sizeof(bool));
   bool any = false;
   double now = Util_wallSeconds();
   for (size_t i = 0; i < p->alertCount; i++) {
      const Alert* a = &p->alerts[i];
      const char* service;
      AlertOutcome o;
      char reason[768];
      if (!AlertReceiver_judge(c, a, &service, &o, reason, sizeof(reason))) {
         outcome(t, r, a, o, reason);
         continue;
      }
      if (!seenOk) {
         Util_format(reason, sizeof(reason), "bundle_dir cannot be used now (%s); retry later", why);
         outcome(t, r, a, ALERT_RETRY, reason);
         continue;
      }
      if (AlertSeen_check(&seen, a->fingerprint, a->startsAt, now)) {
         handled[i] = any = true; /* still sent: kept remembered */
         Util_format(reason, sizeof(reason), "already handled (firing since %s)", a->startsAt);
         outcome(t, r, a, ALERT_DUPLICATE, reason);
         continue;
      }
      o = t->capture(t->ctx, service, a, p->receiver ? p->receiver : "", reason, sizeof(reason));
      if (o == ALERT_CAPTURED || o == ALERT_SUPPRESSED) {
         handled[i] = any = true;
         AlertSeen_add(&seen, a->fingerprint, a->startsAt, now); /* a second copy in this payload */
      }
      outcome(t, r, a, o, reason);
   }
   if (any)
      storeSeen(dirFd, p, handled);
   free(handled);
   AlertSeen_free(&seen);
}

static void answer(HttpResponse* res, int status, char* text, size_t len) {
   res->status = status;
   res->body = text;
   res->len = len;
}

void AlertReceiver_handle(const WatchConfig* config, const AlertTarget* target, const HttpRequest* request,
                          HttpResponse* response) {
   AlertPayload p;
   char err[512];
   if (AlertPayload_parse(&p, request->body, request->bodyLen, err, sizeof(err)) < 0) {
      WatchLog_write(WATCHLOG_WARNING, NULL, "Alertmanager notification from %s refused: %s", request->peer, err);
      char text[600];
      int n = snprintf(text, sizeof(text), "%s\n", err);
      answer(response, 400, Util_xstrdup(text), (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
      return;
   }
   Reply r = { 0 };
   r.f = open_memstream(&r.text, &r.len);
   if (p.alertsDropped && r.f)
      fprintf(r.f, "%zu alerts past the first %d were not looked at\n", p.alertsDropped, ALERTPAYLOAD_ALERTS_MAX);
   handleAlerts(config, target, &p, &r);
   if (r.f)
      fclose(r.f);
   int status = r.retry ? 503 : r.rejected ? 422 : 200;
   answer(response, status, r.text ? r.text : Util_xstrdup(""), r.text ? r.len : 0);
   AlertPayload_free(&p);
}
