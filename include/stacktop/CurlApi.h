#ifndef STACKTOP_CURLAPI_H
#define STACKTOP_CURLAPI_H
/* libcurl loaded with dlopen on first use: only watch mode mails bundles and
 * fetches pprof data, so the monitor and dumps do not pay for libcurl's ~40
 * dependent libraries (TLS, Kerberos, LDAP, ...). <curl/curl.h> still gives
 * the types and constants; every call goes through this table. */
#include <stddef.h>

#include <curl/curl.h>

/* Exactly the functions stacktop calls; __typeof__ ties each pointer to the
 * header's own declaration, so a signature mismatch does not compile.
 * easySetopt keeps curl's variadic type (curl's gcc type-check macro does not
 * apply through a pointer: pass long, pointers and callbacks exactly). */
typedef struct CurlApi_ {
   __typeof__(curl_global_init)* globalInit; /* already called by CurlApi_get */
   __typeof__(curl_easy_init)* easyInit;
   __typeof__(curl_easy_setopt)* easySetopt;
   __typeof__(curl_easy_perform)* easyPerform;
   __typeof__(curl_easy_getinfo)* easyGetinfo;
   __typeof__(curl_easy_cleanup)* easyCleanup;
   __typeof__(curl_easy_strerror)* easyStrerror;
   __typeof__(curl_slist_append)* slistAppend;
   __typeof__(curl_slist_free_all)* slistFreeAll;
} CurlApi;

/* Loads libcurl.so.4 and runs curl_global_init, once per process
 * (thread-safe). Returns the process-wide table (never freed), or NULL with a
 * one-line message in err, the same message on every later call. */
const CurlApi* CurlApi_get(char* err, size_t errSize);

#endif
