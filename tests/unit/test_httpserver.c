/* HttpServer: listen addresses, and a real libmicrohttpd listener on
 * loopback driven by the test's own poll loop as the watcher drives it:
 * routes, methods, the bearer token, body limits, a slow client that does
 * not hold the loop, and the connection limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stacktop/HttpServer.h"
#include "stacktop/Util.h"

static void test_parse_addresses(void** state) {
   (void)state;
   HttpAddress a;
   char err[256];
   assert_int_equal(HttpServer_parseAddress("9256", &a, err, sizeof(err)), 0);
   assert_string_equal(a.text, "127.0.0.1:9256");
   assert_true(a.loopback);
   assert_int_equal(HttpServer_parseAddress("0.0.0.0:80", &a, err, sizeof(err)), 0);
   assert_false(a.loopback);
   assert_int_equal(HttpServer_parseAddress("localhost:1", &a, err, sizeof(err)), 0);
   assert_string_equal(a.text, "127.0.0.1:1");
   assert_int_equal(HttpServer_parseAddress("[::1]:9093", &a, err, sizeof(err)), 0);
   assert_true(a.loopback);
   assert_string_equal(a.text, "[::1]:9093");
   assert_int_equal(HttpServer_parseAddress("[::]:9093", &a, err, sizeof(err)), 0);
   assert_false(a.loopback);
   assert_int_equal(HttpServer_parseAddress("127.1.2.3:65535", &a, err, sizeof(err)), 0);
   assert_true(a.loopback);
   static const char* const bad[] = { "",          "0",           "65536",      "1:2:3",        "host.example:80",
                                      "[::1]9093", "[::1]:",      "127.0.0.1:", "127.0.0.1:-5", "::1:80",
                                      "1.2.3:80",  "127.0.0.1:8x" };
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      err[0] = '\0';
      assert_int_equal(HttpServer_parseAddress(bad[i], &a, err, sizeof(err)), -1);
      assert_non_null(strstr(err, "expected"));
   }
}

/* ---- a live server */

typedef struct Seen_ {
   int calls;
   char body[4096];
   size_t len;
   char method[8];
} Seen;

static void echo(void* ctx, const HttpRequest* req, HttpResponse* res) {
   Seen* s = ctx;
   s->calls++;
   s->len = req->bodyLen < sizeof(s->body) - 1 ? req->bodyLen : sizeof(s->body) - 1;
   memcpy(s->body, req->body, s->len);
   s->body[s->len] = '\0';
   Util_format(s->method, sizeof(s->method), "%s", req->method);
   res->status = 202;
   res->body = Util_xstrdup("hello\n");
   res->len = 6;
}

static int freePort(void) {
   int fd = socket(AF_INET, SOCK_STREAM, 0);
   struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
   socklen_t len = sizeof(a);
   assert_int_equal(bind(fd, (struct sockaddr*)&a, sizeof(a)), 0);
   assert_int_equal(getsockname(fd, (struct sockaddr*)&a, &len), 0);
   close(fd);
   return ntohs(a.sin_port);
}

typedef struct Live_ {
   HttpServer* server;
   int port;
   Seen seen;
} Live;

static int startLive(void** state) {
   Live* l = calloc(1, sizeof(Live));
   char listen[32], err[512];
   HttpServerOptions o = { .what = "test_listen", .listen = listen, .maxConnections = 4, .timeoutS = 2 };
   o.routes[0] = (HttpRoute){ .method = "GET", .path = "/open", .handler = echo, .ctx = &l->seen };
   o.routes[1] = (HttpRoute){
      .method = "POST", .path = "/locked", .maxBody = 1000, .token = "s3cret", .handler = echo, .ctx = &l->seen
   };
   o.routeCount = 2;
   for (int tries = 0; tries < 20 && !l->server; tries++) {
      l->port = freePort();
      Util_format(listen, sizeof(listen), "127.0.0.1:%d", l->port);
      l->server = HttpServer_start(&o, err, sizeof(err));
   }
   assert_non_null(l->server);
   *state = l;
   return 0;
}

static int stopLive(void** state) {
   Live* l = *state;
   HttpServer_stop(l->server);
   free(l);
   return 0;
}

static int connectTo(int port) {
   int fd = socket(AF_INET, SOCK_STREAM, 0);
   struct sockaddr_in a = { .sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
   assert_int_equal(connect(fd, (struct sockaddr*)&a, sizeof(a)), 0);
   return fd;
}

/* Drives the server as the watcher's loop does until the client's answer is complete (the server closes). */
static char* exchange(Live* l, const char* request, size_t requestLen) {
   int fd = connectTo(l->port);
   assert_int_equal(send(fd, request, requestLen, MSG_NOSIGNAL), (ssize_t)requestLen);
   shutdown(fd, SHUT_WR);
   char* out = calloc(1, 65536);
   size_t got = 0;
   double deadline = Util_monotonicSeconds() + 10;
   while (Util_monotonicSeconds() < deadline) {
      struct pollfd p[2] = { { .fd = HttpServer_fd(l->server), .events = POLLIN }, { .fd = fd, .events = POLLIN } };
      poll(p, 2, 50);
      HttpServer_run(l->server);
      if (p[1].revents) {
         ssize_t n = recv(fd, out + got, 65535 - got, MSG_DONTWAIT);
         if (n == 0)
            break;
         if (n > 0)
            got += (size_t)n;
      }
   }
   close(fd);
   return out;
}

static char* ask(Live* l, const char* request) {
   return exchange(l, request, strlen(request));
}

static void test_routes_and_methods(void** state) {
   Live* l = *state;
   char* r = ask(l, "GET /open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
   assert_non_null(strstr(r, "HTTP/1.1 202"));
   assert_non_null(strstr(r, "\r\n\r\nhello\n"));
   assert_non_null(strstr(r, "Content-Type: text/plain; charset=utf-8"));
   assert_int_equal(l->seen.calls, 1);
   free(r);
   r = ask(l, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
   assert_non_null(strstr(r, "HTTP/1.1 404"));
   free(r);
   r = ask(l, "POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab");
   assert_non_null(strstr(r, "HTTP/1.1 405"));
   assert_non_null(strstr(r, "Allow: GET"));
   free(r);
   assert_int_equal(l->seen.calls, 1);
}

static void test_bearer_token(void** state) {
   Live* l = *state;
   const char* body = "{\"x\":1}";
   char req[512];
   static const char* const wrong[] = { "", "Authorization: Bearer s3cre\r\n", "Authorization: Bearer s3cret2\r\n",
                                        "Authorization: Basic s3cret\r\n" };
   for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
      Util_format(req, sizeof(req),
                  "POST /locked HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", wrong[i],
                  strlen(body), body);
      char* r = ask(l, req);
      assert_non_null(strstr(r, "HTTP/1.1 401"));
      assert_non_null(strstr(r, "WWW-Authenticate: Bearer"));
      free(r);
   }
   assert_int_equal(l->seen.calls, 0);
   Util_format(req, sizeof(req),
               "POST /locked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: %zu\r\n"
               "Connection: close\r\n\r\n%s",
               strlen(body), body);
   char* r = ask(l, req);
   assert_non_null(strstr(r, "HTTP/1.1 202"));
   free(r);
   assert_int_equal(l->seen.calls, 1);
   assert_string_equal(l->seen.body, body);
   assert_string_equal(l->seen.method, "POST");
}

static void test_body_limit(void** state) {
   Live* l = *state;
   /* announced too large */
   char* r = ask(l, "POST /locked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 1001\r\n"
                    "Connection: close\r\n\r\n");
   assert_non_null(strstr(r, "HTTP/1.1 413"));
   free(r);
   /* chunked past the limit */
   char big[4096];
   size_t n = (size_t)snprintf(big, sizeof(big),
                               "POST /locked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
   assert_non_null(strstr(r = ask(l, big), "HTTP/1.1 411"));
   free(r);
   /* exactly the limit is fine */
   char body[1001];
   memset(body, 'a', 1000);
   body[1000] = '\0';
   n = (size_t)snprintf(big, sizeof(big),
                        "POST /locked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 1000\r\n"
                        "Connection: close\r\n\r\n%s",
                        body);
   r = exchange(l, big, n);
   assert_non_null(strstr(r, "HTTP/1.1 202"));
   free(r);
   assert_int_equal(l->seen.len, 1000);
}

/* A client that sends half a request and stalls neither blocks the loop nor
 * keeps its connection past the timeout; others are answered meanwhile. */
static void test_slow_client(void** state) {
   Live* l = *state;
   int slow = connectTo(l->port);
   assert_int_equal(send(slow, "GET /op", 7, MSG_NOSIGNAL), 7);
   double t0 = Util_monotonicSeconds();
   char* r = ask(l, "GET /open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
   assert_non_null(strstr(r, "HTTP/1.1 202"));
   free(r);
   assert_true(Util_monotonicSeconds() - t0 < 5);
   /* the server closes the stalled one after its 2 s timeout */
   bool closed = false;
   double deadline = Util_monotonicSeconds() + 15;
   while (!closed && Util_monotonicSeconds() < deadline) {
      struct pollfd p[2] = { { .fd = HttpServer_fd(l->server), .events = POLLIN }, { .fd = slow, .events = POLLIN } };
      double wake = HttpServer_nextWake(l->server);
      int ms = wake > 0 ? (int)((wake - Util_monotonicSeconds()) * 1000) + 1 : 100;
      poll(p, 2, ms < 0 ? 0 : ms > 100 ? 100 : ms);
      HttpServer_run(l->server);
      char c;
      ssize_t n = p[1].revents ? recv(slow, &c, 1, MSG_DONTWAIT) : -1;
      closed = n == 0 || (n < 0 && p[1].revents && errno != EAGAIN);
   }
   assert_true(closed);
   close(slow);
}

/* Idle connections beyond the limit wait in the kernel's backlog: the
 * server never holds more than maxConnections; once they go, it serves again. */
static void test_connection_limit(void** state) {
   Live* l = *state;
   int held[6];
   for (int i = 0; i < 6; i++) {
      held[i] = connectTo(l->port);
      for (int k = 0; k < 5; k++) {
         struct pollfd p = { .fd = HttpServer_fd(l->server), .events = POLLIN };
         poll(&p, 1, 10);
         HttpServer_run(l->server);
      }
   }
   assert_int_equal(HttpServer_openConnections(l->server), 4);
   for (int i = 0; i < 6; i++)
      close(held[i]);
   char* r = ask(l, "GET /open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
   assert_non_null(strstr(r, "HTTP/1.1 202"));
   free(r);
   assert_true(HttpServer_openConnections(l->server) <= 1);
}

static void test_port_in_use(void** state) {
   Live* l = *state;
   char listen[32], err[512];
   Util_format(listen, sizeof(listen), "%d", l->port);
   HttpServerOptions o = { .what = "metrics_listen", .listen = listen, .routeCount = 1 };
   o.routes[0] = (HttpRoute){ .method = "GET", .path = "/metrics", .handler = echo, .ctx = &l->seen };
   assert_null(HttpServer_start(&o, err, sizeof(err)));
   assert_non_null(strstr(err, "metrics_listen"));
   assert_non_null(strstr(err, "Address already in use"));
}

static int openFds(void) {
   int n = 0;
   for (int fd = 0; fd < 1024; fd++)
      n += fcntl(fd, F_GETFD) >= 0;
   return n;
}

/* Stopping closes the listener, the epoll fd and the connections. */
static void test_stop_leaves_no_fd(void** state) {
   (void)state;
   int before = openFds();
   void* live = NULL;
   startLive(&live);
   Live* l = live;
   int client = connectTo(l->port);
   for (int k = 0; k < 5; k++) {
      struct pollfd p = { .fd = HttpServer_fd(l->server), .events = POLLIN };
      poll(&p, 1, 10);
      HttpServer_run(l->server);
   }
   assert_int_equal(HttpServer_openConnections(l->server), 1);
   stopLive(&live);
   close(client);
   assert_int_equal(openFds(), before);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_addresses),
      cmocka_unit_test_setup_teardown(test_routes_and_methods, startLive, stopLive),
      cmocka_unit_test_setup_teardown(test_bearer_token, startLive, stopLive),
      cmocka_unit_test_setup_teardown(test_body_limit, startLive, stopLive),
      cmocka_unit_test_setup_teardown(test_slow_client, startLive, stopLive),
      cmocka_unit_test_setup_teardown(test_connection_limit, startLive, stopLive),
      cmocka_unit_test_setup_teardown(test_port_in_use, startLive, stopLive),
      cmocka_unit_test(test_stop_leaves_no_fd),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
