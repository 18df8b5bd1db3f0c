/* pprof endpoints over HTTP. */
#include "stacktop/Pprof.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/CurlApi.h"
#include "stacktop/Util.h"

typedef struct Body_ {
   char* data;
   size_t len, cap, max;
   bool tooLarge;
} Body;

static size_t collect(char* ptr, size_t size, size_t nmemb, void* user) {
   Body* b = user;
   size_t n = size * nmemb;
   if (b->len + n > b->max) {
      b->tooLarge = true;
      return 0; /* aborts the transfer */
   }
   Util_growArray((void**)&b->data, &b->cap, b->len + n + 1, 1);
   memcpy(b->data + b->len, ptr, n);
   b->len += n;
   b->data[b->len] = '\0';
   return n;
}

char* Pprof_fetch(const char* baseUrl, const char* path, double timeoutS, size_t maxBytes, size_t* len,
                  PprofError* error, char* err, size_t errSize) {
   size_t bl = strlen(baseUrl);
   char url[2048];
   Util_format(url, sizeof(url), "%s%s%s", baseUrl, bl && baseUrl[bl - 1] == '/' ? "" : "/", path);
   *error = PPROF_FAILED;
   const CurlApi* api = CurlApi_get(err, errSize);
   if (!api)
      return NULL;
   CURL* curl = api->easyInit();
   if (!curl) {
      Util_format(err, errSize, "libcurl could not start a transfer");
      return NULL;
   }
   Body body = { .max = maxBytes };
   char curlErr[CURL_ERROR_SIZE] = "";
   api->easySetopt(curl, CURLOPT_URL, url);
   api->easySetopt(curl, CURLOPT_WRITEFUNCTION, collect);
   api->easySetopt(curl, CURLOPT_WRITEDATA, &body);
   api->easySetopt(curl, CURLOPT_NOSIGNAL, 1L);
   api->easySetopt(curl, CURLOPT_FAILONERROR, 1L);
   api->easySetopt(curl, CURLOPT_ERRORBUFFER, curlErr);
   /* 0 would mean "no limit" to libcurl: a tiny timeout must stay a timeout. */
   long timeoutMs = timeoutS * 1000 >= 1 ? (long)(timeoutS * 1000) : 1L;
   api->easySetopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs < 5000 ? timeoutMs : 5000L);
   api->easySetopt(curl, CURLOPT_TIMEOUT_MS, timeoutMs);
   api->easySetopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
   CURLcode rc = api->easyPerform(curl);
   api->easyCleanup(curl);
   if (rc != CURLE_OK || body.tooLarge) {
      if (body.tooLarge)
         Util_format(err, errSize, "%s: larger than %zu bytes", url, maxBytes);
      else
         Util_format(err, errSize, "%s: %s", url, curlErr[0] ? curlErr : api->easyStrerror(rc));
      free(body.data);
      bool noConnection = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                          (rc == CURLE_OPERATION_TIMEDOUT && body.len == 0 && !body.tooLarge);
      *error = noConnection ? PPROF_UNREACHABLE : PPROF_FAILED;
      return NULL;
   }
   *error = PPROF_OK;
   if (!body.data)
      body.data = Util_xcalloc(1, 1);
   *len = body.len;
   return body.data;
}
