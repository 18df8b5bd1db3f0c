/* HTTP listener on libmicrohttpd's external epoll mode; see HttpServer.h. */
#include "stacktop/HttpServer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "stacktop/MhdApi.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

#define DEFAULT_CONNECTIONS 16
#define PER_CLIENT_CONNECTIONS 8
#define DEFAULT_TIMEOUT_S 10
#define HEADER_MEMORY (32u * 1024u)
/* Refused requests are logged once, then counted for this long. */
#define REFUSAL_LOG_INTERVAL_S 60.0

typedef struct Route_ {
   HttpRoute spec;
   char* token; /* own copy */
} Route;

struct HttpServer_ {
   const MhdApi* api;
   struct MHD_Daemon* daemon;
   char what[64];
   HttpAddress address;
   int listenFd;
   int epollFd;
   Route routes[HTTPSERVER_ROUTES_MAX];
   size_t routeCount;
   int* connections; /* fds of open connections, -1 for free slots */
   size_t connectionSlots;
   /* refusals (401) since the last log line */
   unsigned refusals;
   double refusalLoggedAt;
};

/* One request in progress. */
typedef struct Request_ {
   const Route* route;
   char* body;
   size_t len, cap;
} Request;

/* ---- addresses */

static int parsePort(const char* s, unsigned short* port) {
   char* end;
   errno = 0;
   unsigned long v = strtoul(s, &end, 10);
   if (errno || end == s || *end || v == 0 || v > 65535 || s[0] == '-' || s[0] == '+')
      return -1;
   *port = (unsigned short)v;
   return 0;
}

int HttpServer_parseAddress(const char* text, HttpAddress* out, char* err, size_t errSize) {
   static const char expected[] = "expected PORT (on 127.0.0.1), ADDR:PORT or [ADDR6]:PORT with a numeric address "
                                  "or localhost, and a port from 1 to 65535";
   memset(out, 0, sizeof(*out));
   char host[64] = "127.0.0.1";
   const char* portText = text;
   bool six = false;
   if (text[0] == '[') {
      const char* close = strchr(text, ']');
      if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host)) {
         Util_format(err, errSize, "'%s': %s", text, expected);
         return -1;
      }
      Util_format(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
      portText = close + 2;
      six = true;
   } else if (strchr(text, ':')) {
      const char* colon = strrchr(text, ':');
      if ((size_t)(colon - text) >= sizeof(host) || strchr(text, ':') != colon) {
         Util_format(err, errSize, "'%s': %s", text, expected);
         return -1;
      }
      Util_format(host, sizeof(host), "%.*s", (int)(colon - text), text);
      portText = colon + 1;
   }
   unsigned short port;
   if (parsePort(portText, &port) < 0) {
      Util_format(err, errSize, "'%s': %s", text, expected);
      return -1;
   }
   if (!six && strcmp(host, "localhost") == 0)
      Util_format(host, sizeof(host), "127.0.0.1");
   if (six) {
      struct sockaddr_in6* a = (struct sockaddr_in6*)&out->addr;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
         Util_format(err, errSize, "'%s': %s", text, expected);
         return -1;
      }
      out->len = sizeof(*a);
      out->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
      Util_format(out->text, sizeof(out->text), "[%s]:%u", host, port);
      return 0;
   }
   struct sockaddr_in* a = (struct sockaddr_in*)&out->addr;
   a->sin_family = AF_INET;
   a->sin_port = htons(port);
   if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
      Util_format(err, errSize, "'%s': %s", text, expected);
      return -1;
   }
   out->len = sizeof(*a);
   out->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
   Util_format(out->text, sizeof(out->text), "%s:%u", host, port);
   return 0;
}

static int listenOn(const HttpAddress* a, char* why, size_t whySize) {
   int fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (fd < 0) {
      Util_format(why, whySize, "socket: %s", strerror(errno));
      return -1;
   }
   int one = 1;
   setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
   if (bind(fd, (const struct sockaddr*)&a->addr, a->len) < 0 || listen(fd, 64) < 0) {
      Util_format(why, whySize, "%s", strerror(errno));
      close(fd);
      return -1;
   }
   return fd;
}

/* ---- responses */

static enum MHD_Result respond(HttpServer* s, struct MHD_Connection* c, HttpResponse* r, const char* extraName,
                               const char* extraValue) {
   struct MHD_Response* res = s->api->createResponseFromBuffer(
       r->len, r->body ? r->body : (void*)"", r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
   if (!res) {
      free(r->body);
      return MHD_NO;
   }
   r->body = NULL; /* the response owns it now */
   s->api->addResponseHeader(res, "Content-Type", r->contentType ? r->contentType : "text/plain; charset=utf-8");
   if (extraName)
      s->api->addResponseHeader(res, extraName, extraValue);
   enum MHD_Result ok = s->api->queueResponse(c, (unsigned)r->status, res);
   s->api->destroyResponse(res);
   return ok;
}

__attribute__((format(printf, 5, 6))) static enum MHD_Result refuse(HttpServer* s, struct MHD_Connection* c, int status,
                                                                    const char* header, const char* fmt, ...) {
   char text[512];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(text, sizeof(text), fmt, ap);
   va_end(ap);
   HttpResponse r = { .status = status, .body = Util_xstrdup(text), .len = strlen(text) };
   const char* name = NULL;
   const char* value = NULL;
   if (header) {
      name = header;
      value = header + strlen(header) + 1; /* "Name\0Value" */
   }
   return respond(s, c, &r, name, value);
}

/* ---- requests */

static const Route* findRoute(const HttpServer* s, const char* url) {
   for (size_t i = 0; i < s->routeCount; i++) {
      if (strcmp(s->routes[i].spec.path, url) == 0)
         return &s->routes[i];
   }
   return NULL;
}

/* Equal strings in time that depends only on the length of the one sent. */
static bool sameToken(const char* sent, const char* want) {
   size_t a = strlen(sent), b = strlen(want);
   unsigned char diff = a != b;
   for (size_t i = 0; i < a; i++)
      diff |= (unsigned char)sent[i] ^ (unsigned char)want[b ? i % b : 0];
   return diff == 0;
}

static bool authorized(HttpServer* s, struct MHD_Connection* c, const Route* r) {
   if (!r->token)
      return true;
   const char* h = s->api->lookupConnectionValue(c, MHD_HEADER_KIND, "Authorization");
   if (!h || strncasecmp(h, "Bearer ", 7) != 0)
      return false;
   h += 7;
   while (*h == ' ')
      h++;
   return sameToken(h, r->token);
}

static void peerOf(HttpServer* s, struct MHD_Connection* c, char* buf, size_t size) {
   const union MHD_ConnectionInfo* info = s->api->getConnectionInfo(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
   Util_format(buf, size, "?");
   if (!info || !info->client_addr)
      return;
   char host[64];
   if (info->client_addr->sa_family == AF_INET) {
      const struct sockaddr_in* a = (const struct sockaddr_in*)info->client_addr;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
      Util_format(buf, size, "%s:%u", host, ntohs(a->sin_port));
   } else if (info->client_addr->sa_family == AF_INET6) {
      const struct sockaddr_in6* a = (const struct sockaddr_in6*)info->client_addr;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
      Util_format(buf, size, "[%s]:%u", host, ntohs(a->sin6_port));
   }
}

static void noteRefusal(HttpServer* s, const char* peer, const char* path) {
   s->refusals++;
   double now = Util_monotonicSeconds();
   if (s->refusalLoggedAt != 0 && now - s->refusalLoggedAt < REFUSAL_LOG_INTERVAL_S)
      return;
   WatchLog_write(WATCHLOG_WARNING, NULL,
                  "%s %s: %u request%s refused with 401 (no or wrong bearer token), the last from %s for %s", s->what,
                  s->address.text, s->refusals, s->refusals == 1 ? "" : "s", peer, path);
   s->refusals = 0;
   s->refusalLoggedAt = now;
}

/* The first call of a request: route, method, token and announced length. */
static enum MHD_Result begin(HttpServer* s, struct MHD_Connection* c, const char* url, const char* method,
                             void** conCls) {
   const Route* r = findRoute(s, url);
   if (!r)
      return refuse(s, c, MHD_HTTP_NOT_FOUND, NULL, "not found; this listener serves %s\n", s->routes[0].spec.path);
   if (strcmp(method, r->spec.method) != 0 && !(strcmp(method, "HEAD") == 0 && strcmp(r->spec.method, "GET") == 0)) {
      char allow[32];
      Util_format(allow, sizeof(allow), "Allow%c%s", '\0', r->spec.method);
      return refuse(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "%s wants %s\n", r->spec.path, r->spec.method);
   }
   if (!authorized(s, c, r)) {
      char peer[96];
      peerOf(s, c, peer, sizeof(peer));
      noteRefusal(s, peer, r->spec.path);
      return refuse(s, c, MHD_HTTP_UNAUTHORIZED, "WWW-Authenticate\0Bearer realm=\"stacktop\"",
                    "a bearer token is required\n");
   }
   const char* length = s->api->lookupConnectionValue(c, MHD_HEADER_KIND, "Content-Length");
   if (length && strtoull(length, NULL, 10) > r->spec.maxBody)
      return refuse(s, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "the body may have at most %zu bytes\n", r->spec.maxBody);
   if (!length && r->spec.maxBody > 0 && s->api->lookupConnectionValue(c, MHD_HEADER_KIND, "Transfer-Encoding"))
      return refuse(s, c, MHD_HTTP_LENGTH_REQUIRED, NULL, "send the body with a Content-Length\n");
   Request* req = Util_xcalloc(1, sizeof(Request));
   req->route = r;
   *conCls = req;
   return MHD_YES;
}

static enum MHD_Result onRequest(void* cls, struct MHD_Connection* c, const char* url, const char* method,
                                 const char* version, const char* upload, size_t* uploadSize, void** conCls) {
   (void)version;
   HttpServer* s = cls;
   Request* req = *conCls;
   if (!req)
      return begin(s, c, url, method, conCls);
   if (*uploadSize > 0) {
      if (req->len + *uploadSize > req->route->spec.maxBody)
         return refuse(s, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "the body may have at most %zu bytes\n",
                       req->route->spec.maxBody);
      Util_growArray((void**)&req->body, &req->cap, req->len + *uploadSize + 1, 1);
      memcpy(req->body + req->len, upload, *uploadSize);
      req->len += *uploadSize;
      req->body[req->len] = '\0';
      *uploadSize = 0;
      return MHD_YES;
   }
   char peer[96];
   peerOf(s, c, peer, sizeof(peer));
   HttpRequest in = { .method = method,
                      .path = url,
                      .body = req->body ? req->body : "",
                      .bodyLen = req->len,
                      .contentType = s->api->lookupConnectionValue(c, MHD_HEADER_KIND, "Content-Type"),
                      .peer = peer };
   HttpResponse out = { .status = MHD_HTTP_OK };
   req->route->spec.handler(req->route->spec.ctx, &in, &out);
   return respond(s, c, &out, NULL, NULL);
}

static void onCompleted(void* cls, struct MHD_Connection* c, void** conCls, enum MHD_RequestTerminationCode toe) {
   (void)cls;
   (void)c;
   (void)toe;
   Request* req = *conCls;
   if (req) {
      free(req->body);
      free(req);
   }
   *conCls = NULL;
}

/* Keeps the fds of open connections, for HttpServer_closeInChild. */
static void onConnection(void* cls, struct MHD_Connection* c, void** socketContext,
                         enum MHD_ConnectionNotificationCode toe) {
   (void)socketContext;
   HttpServer* s = cls;
   const union MHD_ConnectionInfo* info = s->api->getConnectionInfo(c, MHD_CONNECTION_INFO_CONNECTION_FD);
   if (!info)
      return;
   int fd = info->connect_fd;
   for (size_t i = 0; i < s->connectionSlots; i++) {
      if (toe == MHD_CONNECTION_NOTIFY_STARTED && s->connections[i] < 0) {
         s->connections[i] = fd;
         return;
      }
      if (toe == MHD_CONNECTION_NOTIFY_CLOSED && s->connections[i] == fd) {
         s->connections[i] = -1;
         return;
      }
   }
}

/* libmicrohttpd's own messages: about clients, so only with -v. */
static void onLog(void* cls, const char* fmt, va_list ap) {
   HttpServer* s = cls;
   char text[512];
   vsnprintf(text, sizeof(text), fmt, ap);
   text[strcspn(text, "\n")] = '\0';
   WatchLog_write(WATCHLOG_DEBUG, NULL, "%s %s: libmicrohttpd: %s", s->what, s->address.text, text);
}

/* ---- the server */

static bool setRoutes(HttpServer* s, const HttpServerOptions* o, char* err, size_t errSize) {
   if (o->routeCount == 0 || o->routeCount > HTTPSERVER_ROUTES_MAX) {
      Util_format(err, errSize, "%s: %zu routes; expected 1 to %d", o->what, o->routeCount, HTTPSERVER_ROUTES_MAX);
      return false;
   }
   for (size_t i = 0; i < o->routeCount; i++) {
      s->routes[i].spec = o->routes[i];
      s->routes[i].token = o->routes[i].token ? Util_xstrdup(o->routes[i].token) : NULL;
      s->routes[i].spec.token = s->routes[i].token;
   }
   s->routeCount = o->routeCount;
   return true;
}

HttpServer* HttpServer_start(const HttpServerOptions* o, char* err, size_t errSize) {
   char why[512];
   const MhdApi* api = MhdApi_get(why, sizeof(why));
   if (!api) {
      Util_format(err, errSize, "%s: %s", o->what, why);
      return NULL;
   }
   bool tls = o->tlsCert && o->tlsKey;
   if (tls && api->isFeatureSupported(MHD_FEATURE_TLS) != MHD_YES) {
      Util_format(err, errSize, "%s: this libmicrohttpd was built without TLS; expected Debian's libmicrohttpd12",
                  o->what);
      return NULL;
   }
   HttpServer* s = Util_xcalloc(1, sizeof(HttpServer));
   s->api = api;
   s->listenFd = -1;
   s->epollFd = -1;
   Util_format(s->what, sizeof(s->what), "%s", o->what);
   if (HttpServer_parseAddress(o->listen, &s->address, why, sizeof(why)) < 0 || !setRoutes(s, o, why, sizeof(why))) {
      Util_format(err, errSize, "%s = %s", o->what, why);
      HttpServer_stop(s);
      return NULL;
   }
   s->listenFd = listenOn(&s->address, why, sizeof(why));
   if (s->listenFd < 0) {
      Util_format(err, errSize, "%s = %s: cannot listen on %s: %s; expected a free port", o->what, o->listen,
                  s->address.text, why);
      HttpServer_stop(s);
      return NULL;
   }
   unsigned maxConnections = o->maxConnections ? o->maxConnections : DEFAULT_CONNECTIONS;
   s->connectionSlots = maxConnections + 4; /* closing ones may linger while new ones start */
   s->connections = Util_xmalloc(s->connectionSlots * sizeof(int));
   for (size_t i = 0; i < s->connectionSlots; i++)
      s->connections[i] = -1;
   struct MHD_OptionItem opts[] = {
      { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)onLog, s },
      { MHD_OPTION_LISTEN_SOCKET, s->listenFd, NULL },
      { MHD_OPTION_CONNECTION_LIMIT, maxConnections, NULL },
      { MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_CLIENT_CONNECTIONS, NULL },
      { MHD_OPTION_CONNECTION_TIMEOUT, o->timeoutS ? o->timeoutS : DEFAULT_TIMEOUT_S, NULL },
      { MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL },
      { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)onCompleted, s },
      { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)onConnection, s },
      { tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void*)o->tlsKey },
      { tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void*)o->tlsCert },
      { MHD_OPTION_END, 0, NULL },
   };
   unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
   s->daemon = api->startDaemon(flags, 0, NULL, NULL, onRequest, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
   if (!s->daemon) {
      Util_format(err, errSize, "%s = %s: libmicrohttpd did not start%s", o->what, o->listen,
                  tls ? " (is tls_cert_file a PEM certificate and tls_key_file its PEM key?)" : "");
      HttpServer_stop(s);
      return NULL;
   }
   const union MHD_DaemonInfo* info = api->getDaemonInfo(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
   s->epollFd = info ? info->epoll_fd : -1;
   if (s->epollFd < 0) {
      Util_format(err, errSize, "%s = %s: libmicrohttpd gave no epoll fd", o->what, o->listen);
      HttpServer_stop(s);
      return NULL;
   }
   return s;
}

void HttpServer_stop(HttpServer* this) {
   if (!this)
      return;
   if (this->daemon)
      this->api->stopDaemon(this->daemon); /* closes the connections and the listener */
   else if (this->listenFd >= 0)
      close(this->listenFd);
   for (size_t i = 0; i < this->routeCount; i++)
      free(this->routes[i].token);
   free(this->connections);
   free(this);
}

int HttpServer_fd(const HttpServer* this) {
   return this->epollFd;
}

double HttpServer_nextWake(const HttpServer* this) {
   MHD_UNSIGNED_LONG_LONG ms;
   if (this->api->getTimeout(this->daemon, &ms) != MHD_YES)
      return 0;
   return Util_monotonicSeconds() + (double)ms / 1000.0;
}

void HttpServer_run(HttpServer* this) {
   this->api->run(this->daemon);
}

void HttpServer_closeInChild(const HttpServer* this) {
   close(this->listenFd);
   close(this->epollFd);
   for (size_t i = 0; i < this->connectionSlots; i++) {
      if (this->connections[i] >= 0)
         close(this->connections[i]);
   }
}

size_t HttpServer_openConnections(const HttpServer* this) {
   size_t n = 0;
   for (size_t i = 0; i < this->connectionSlots; i++)
      n += this->connections[i] >= 0;
   return n;
}

const char* HttpServer_address(const HttpServer* this) {
   return this->address.text;
}
