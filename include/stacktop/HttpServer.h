#ifndef STACKTOP_HTTPSERVER_H
#define STACKTOP_HTTPSERVER_H
/* A small HTTP(S) listener for `stacktop watch` (GET /metrics, POST
 * /alertmanager), on GNU libmicrohttpd (MhdApi) in its external-poll mode:
 * no thread of its own. The watcher's loop polls HttpServer_fd (an epoll fd
 * that is readable when any socket of the server needs work) next to its
 * self-pipe and calls HttpServer_run; handlers therefore run on the loop,
 * between samples, and must be quick (they answer from data the loop already
 * has, or queue work for a background job). Sockets are non-blocking, so a
 * slow or hostile client never holds the loop.
 *
 * Limits: at most maxConnections at once (8 per client address), an idle
 * connection is closed after timeoutS, request headers within 32 KiB, a
 * body only where the route allows one and at most its maxBody (413 past
 * it, 411 without a length). Routes are exact paths with one method (404,
 * 405 otherwise); a route with a token wants `Authorization: Bearer TOKEN`
 * (401 otherwise, compared in constant time). With a certificate and key the
 * listener speaks only TLS (GnuTLS, through libmicrohttpd). */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct HttpRequest_ {
   const char* method;
   const char* path;
   const char* body; /* NUL-terminated copy of the body ("" without one) */
   size_t bodyLen;
   const char* contentType; /* NULL when not sent */
   const char* peer;        /* "ADDR:PORT" of the client, for logs */
} HttpRequest;

typedef struct HttpResponse_ {
   int status;              /* 200 unless the handler says otherwise */
   const char* contentType; /* static text; default text/plain; charset=utf-8 */
   char* body;              /* owned by the response (malloc'd); NULL: empty */
   size_t len;
} HttpResponse;

/* Fills the response; runs on the watcher's loop. */
typedef void (*HttpHandler)(void* ctx, const HttpRequest* request, HttpResponse* response);

typedef struct HttpRoute_ {
   const char* method; /* "GET" or "POST" */
   const char* path;   /* exact, e.g. "/metrics" */
   size_t maxBody;     /* bytes; 0: no body accepted */
   const char* token;  /* required bearer token (copied), NULL: none */
   HttpHandler handler;
   void* ctx;
} HttpRoute;

#define HTTPSERVER_ROUTES_MAX 4

typedef struct HttpServerOptions_ {
   const char* what;   /* the config key, for messages: "metrics_listen" */
   const char* listen; /* "PORT", "ADDR:PORT" or "[ADDR6]:PORT" */
   HttpRoute routes[HTTPSERVER_ROUTES_MAX];
   size_t routeCount;
   const char* tlsCert; /* PEM text; with tlsKey: HTTPS only. NULL: plain HTTP */
   const char* tlsKey;
   unsigned maxConnections; /* 0: 16 */
   unsigned timeoutS;       /* idle connection limit; 0: 10 */
} HttpServerOptions;

/* A parsed listen address. */
typedef struct HttpAddress_ {
   struct sockaddr_storage addr;
   socklen_t len;
   bool loopback; /* 127.0.0.0/8 or ::1 */
   char text[80]; /* normalised "ADDR:PORT" / "[ADDR]:PORT" */
} HttpAddress;

/* Pure: "9256" (loopback), "127.0.0.1:9256", "0.0.0.0:9256", "localhost:9256",
 * "[::1]:9256". Returns 0, or -1 with what is expected in err. */
int HttpServer_parseAddress(const char* text, HttpAddress* out, char* err, size_t errSize);

typedef struct HttpServer_ HttpServer;

/* Binds and starts listening (libmicrohttpd is loaded now). Returns NULL
 * with a message naming options->what and the address on failure. */
HttpServer* HttpServer_start(const HttpServerOptions* options, char* err, size_t errSize);
/* Closes every connection and the listener. */
void HttpServer_stop(HttpServer* this);
/* The fd to poll for POLLIN. */
int HttpServer_fd(const HttpServer* this);
/* Monotonic time by which HttpServer_run is due even without activity (an
 * idle connection's timeout), 0 if none. */
double HttpServer_nextWake(const HttpServer* this);
/* Accepts, reads, answers and times out what is ready; never blocks. */
void HttpServer_run(HttpServer* this);
/* In a forked child that must not keep the parent's sockets (a background
 * job: a client whose connection the parent closes must see it closed):
 * closes the listener, the epoll fd and every connection. Async-signal-safe. */
void HttpServer_closeInChild(const HttpServer* this);
/* Connections open right now. */
size_t HttpServer_openConnections(const HttpServer* this);
/* The address it listens on ("127.0.0.1:9256"). */
const char* HttpServer_address(const HttpServer* this);

#endif
