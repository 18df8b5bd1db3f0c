/* pprof endpoints over HTTP. */
#include "stacktop/Pprof.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

char* Pprof_fetch(const char* baseUrl, const char* path, double timeoutS, size_t maxBytes,
                  size_t* len, PprofError* error, char* err, size_t errSize) {
   size_t bl = strlen(baseUrl);
   char url[2048];
   Util_format(url, sizeof(url), "%s%s%s", baseUrl, bl && baseUrl[bl - 1] == '/' ? "" : "/", path);
   CURL* curl = curl_easy_init();
   *error = PPROF_FAILED;
   if (!curl) {
      Util_format(err, errSize, "libcurl could not start a transfer");
      return NULL;
   }
   Body body = { .max = maxBytes };
   char curlErr[CURL_ERROR_SIZE] = "";
   curl_easy_setopt(curl, CURLOPT_URL, url);
   curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
   curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
   curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
   curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
   curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlErr);
   curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
   curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeoutS * 1000));
   curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
   CURLcode rc = curl_easy_perform(curl);
   curl_easy_cleanup(curl);
   if (rc != CURLE_OK || body.tooLarge) {
      if (body.tooLarge)
         Util_format(err, errSize, "%s: larger than %zu bytes", url, maxBytes);
      else
         Util_format(err, errSize, "%s: %s", url, curlErr[0] ? curlErr : curl_easy_strerror(rc));
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
