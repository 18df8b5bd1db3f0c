/* The watcher's HTTP listeners; see Listeners.h. */
#include "stacktop/Listeners.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/HttpServer.h"
#include "stacktop/Metrics.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

typedef struct Listener_ {
   HttpServer* server;
   char* signature; /* everything it was started with: unchanged means keep it */
} Listener;

struct Listeners_ {
   Listener items[LISTENERS_MAX];
   const WatchConfig* config;
   const Exporter* exporter;
   const AlertTarget* target;
};

Listeners* Listeners_new(void) {
   return Util_xcalloc(1, sizeof(Listeners));
}

static void stopListener(Listener* l) {
   HttpServer_stop(l->server);
   free(l->signature);
   memset(l, 0, sizeof(*l));
}

void Listeners_free(Listeners* this) {
   if (!this)
      return;
   for (size_t i = 0; i < LISTENERS_MAX; i++)
      stopListener(&this->items[i]);
   free(this);
}

/* ---- the routes */

static void serveMetrics(void* ctx, const HttpRequest* req, HttpResponse* res) {
   (void)req;
   const Listeners* l = ctx;
   size_t len = 0;
   const char* text = l->exporter ? Exporter_text(l->exporter, &len) : "";
   res->contentType = METRICS_CONTENT_TYPE;
   res->body = Util_xmalloc(len + 1);
   memcpy(res->body, text, len + 1);
   res->len = len;
}

static void serveAlerts(void* ctx, const HttpRequest* req, HttpResponse* res) {
   const Listeners* l = ctx;
   AlertReceiver_handle(l->config, l->target, req, res);
}

static HttpRoute metricsRoute(Listeners* l) {
   const SecretFile* token = &l->config->metricsToken;
   return (HttpRoute){ .method = "GET", .path = "/metrics", .token = token->text, .handler = serveMetrics, .ctx = l };
}

static HttpRoute alertRoute(Listeners* l) {
   return (HttpRoute){ .method = "POST",
                       .path = "/alertmanager",
                       .maxBody = LISTENERS_ALERT_BODY_MAX,
                       .token = l->config->alertToken.text,
                       .handler = serveAlerts,
                       .ctx = l };
}

/* Appends s (NULL as "-") and a separator to a signature. */
static void sign(char** sig, const char* s) {
   size_t have = *sig ? strlen(*sig) : 0, add = s ? strlen(s) : 1;
   *sig = Util_xrealloc(*sig, have + add + 2);
   memcpy(*sig + have, s ? s : "-", add);
   (*sig)[have + add] = '\x1f';
   (*sig)[have + add + 1] = '\0';
}

/* The options of the listener on `address`: its routes, TLS. */
static void optionsFor(Listeners* l, const char* address, HttpServerOptions* o, char** signature) {
   const WatchConfig* c = l->config;
   memset(o, 0, sizeof(*o));
   o->listen = address;
   o->tlsCert = c->tlsCert.text;
   o->tlsKey = c->tlsKey.text;
   bool metrics = c->metricsListen && strcmp(c->metricsListen, address) == 0;
   bool alerts = c->alertListen && strcmp(c->alertListen, address) == 0;
   o->what = metrics && alerts ? "metrics_listen and alert_listen" : metrics ? "metrics_listen" : "alert_listen";
   if (metrics)
      o->routes[o->routeCount++] = metricsRoute(l);
   if (alerts)
      o->routes[o->routeCount++] = alertRoute(l);
   *signature = NULL;
   sign(signature, address);
   sign(signature, o->tlsCert);
   sign(signature, o->tlsKey);
   for (size_t i = 0; i < o->routeCount; i++) {
      sign(signature, o->routes[i].path);
      sign(signature, o->routes[i].token);
   }
}

/* Starts the listener of slot i for address (NULL: none), keeping a running one that matches. */
static int configureSlot(Listeners* l, size_t i, const char* address, char* err, size_t errSize) {
   Listener* slot = &l->items[i];
   if (!address) {
      stopListener(slot);
      return 0;
   }
   HttpServerOptions o;
   char* signature;
   optionsFor(l, address, &o, &signature);
   if (slot->server && strcmp(slot->signature, signature) == 0) {
      free(signature);
      return 0;
   }
   stopListener(slot); /* first: the new one may want the same port */
   slot->server = HttpServer_start(&o, err, errSize);
   if (!slot->server) {
      free(signature);
      return -1;
   }
   slot->signature = signature;
   WatchLog_write(WATCHLOG_NOTICE, NULL, "%s: serving %s%s%s on %s%s", o.what, o.routes[0].path,
                  o.routeCount > 1 ? " and " : "", o.routeCount > 1 ? o.routes[1].path : "",
                  HttpServer_address(slot->server), o.tlsCert ? " (HTTPS)" : "");
   return 0;
}

int Listeners_configure(Listeners* this, const WatchConfig* config, const Exporter* exporter, const AlertTarget* target,
                        char* err, size_t errSize) {
   this->config = config;
   this->exporter = exporter;
   this->target = target;
   const char* first = config->metricsListen ? config->metricsListen : config->alertListen;
   const char* second =
       config->metricsListen && config->alertListen && strcmp(config->metricsListen, config->alertListen) != 0
           ? config->alertListen
           : NULL;
   int rc = configureSlot(this, 0, first, err, errSize);
   char err2[512];
   if (configureSlot(this, 1, second, err2, sizeof(err2)) < 0) {
      if (rc == 0)
         Util_format(err, errSize, "%s", err2);
      rc = -1;
   }
   return rc;
}

size_t Listeners_pollFds(const Listeners* this, struct pollfd* out, size_t max) {
   size_t n = 0;
   for (size_t i = 0; i < LISTENERS_MAX && n < max; i++) {
      if (this->items[i].server)
         out[n++] = (struct pollfd){ .fd = HttpServer_fd(this->items[i].server), .events = POLLIN };
   }
   return n;
}

double Listeners_nextWake(const Listeners* this) {
   double next = 0;
   for (size_t i = 0; i < LISTENERS_MAX; i++) {
      double at = this->items[i].server ? HttpServer_nextWake(this->items[i].server) : 0;
      if (at > 0 && (next == 0 || at < next))
         next = at;
   }
   return next;
}

void Listeners_run(Listeners* this) {
   for (size_t i = 0; i < LISTENERS_MAX; i++) {
      if (this->items[i].server)
         HttpServer_run(this->items[i].server);
   }
}

void Listeners_closeInChild(void* listeners) {
   const Listeners* this = listeners;
   for (size_t i = 0; i < LISTENERS_MAX; i++) {
      if (this->items[i].server)
         HttpServer_closeInChild(this->items[i].server);
   }
}
