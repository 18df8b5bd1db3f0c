/* MIME building and SMTP delivery. */
#include "stacktop/Mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/CurlApi.h"
#include "stacktop/Util.h"

static const char base64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Plain base64 without line breaks into out (4 * ceil(len/3) bytes + NUL). */
static size_t base64Plain(const unsigned char* data, size_t len, char* out) {
   size_t o = 0;
   for (size_t i = 0; i < len; i += 3) {
      unsigned v = (unsigned)data[i] << 16;
      if (i + 1 < len)
         v |= (unsigned)data[i + 1] << 8;
      if (i + 2 < len)
         v |= data[i + 2];
      out[o++] = base64Alphabet[(v >> 18) & 63];
      out[o++] = base64Alphabet[(v >> 12) & 63];
      out[o++] = i + 1 < len ? base64Alphabet[(v >> 6) & 63] : '=';
      out[o++] = i + 2 < len ? base64Alphabet[v & 63] : '=';
   }
   out[o] = '\0';
   return o;
}

char* Mail_base64(const unsigned char* data, size_t len, size_t* outLen) {
   size_t chars = (len + 2) / 3 * 4;
   size_t lines = (chars + 75) / 76;
   char* plain = Util_xmalloc(chars + 1);
   base64Plain(data, len, plain);
   char* out = Util_xmalloc(chars + lines * 2 + 1);
   size_t o = 0;
   for (size_t i = 0; i < chars; i += 76) {
      size_t n = chars - i < 76 ? chars - i : 76;
      memcpy(out + o, plain + i, n);
      o += n;
      out[o++] = '\r';
      out[o++] = '\n';
   }
   out[o] = '\0';
   free(plain);
   if (outLen)
      *outLen = o;
   return out;
}

/* A growing text buffer; the message is built into one. */
typedef struct Text_ {
   char* data;
   size_t len, cap;
} Text;

static void textAppend(Text* t, const char* s, size_t n) {
   Util_growArray((void**)&t->data, &t->cap, t->len + n + 1, 1);
   memcpy(t->data + t->len, s, n);
   t->len += n;
   t->data[t->len] = '\0';
}

static void textPuts(Text* t, const char* s) {
   textAppend(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void textPrintf(Text* t, const char* fmt, ...) {
   char buf[1024];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, sizeof(buf), fmt, ap);
   va_end(ap);
   if (n < 0)
      return;
   if ((size_t)n < sizeof(buf)) {
      textAppend(t, buf, (size_t)n);
      return;
   }
   char* big = Util_xmalloc((size_t)n + 1);
   va_start(ap, fmt);
   vsnprintf(big, (size_t)n + 1, fmt, ap);
   va_end(ap);
   textAppend(t, big, (size_t)n);
   free(big);
}

/* Text with any line end turned into CRLF. */
static void textAppendCrlf(Text* t, const char* s) {
   for (const char* p = s; *p; p++) {
      if (*p == '\r')
         continue;
      if (*p == '\n')
         textPuts(t, "\r\n");
      else
         textAppend(t, p, 1);
   }
}

static bool isAscii(const char* s) {
   for (; *s; s++) {
      if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n')
         return false;
   }
   return true;
}

static void appendSubject(Text* t, const char* subject) {
   if (isAscii(subject)) {
      textPrintf(t, "Subject: %s\r\n", subject);
      return;
   }
   size_t len = strlen(subject);
   char* enc = Util_xmalloc((len + 2) / 3 * 4 + 1);
   base64Plain((const unsigned char*)subject, len, enc);
   textPrintf(t, "Subject: =?UTF-8?B?%s?=\r\n", enc);
   free(enc);
}

/* RFC 5322 date in UTC, independent of the locale. */
static void appendDate(Text* t, double when) {
   static const char* const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
   static const char* const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
   time_t secs = (time_t)when;
   struct tm tm;
   gmtime_r(&secs, &tm);
   textPrintf(t, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
              tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char* Mail_build(const MailMessage* m, size_t* len) {
   Text t = { 0 };
   textPrintf(&t, "From: %s\r\nTo: ", m->from);
   for (size_t i = 0; i < m->toCount; i++)
      textPrintf(&t, "%s%s", i ? ", " : "", m->to[i]);
   textPuts(&t, "\r\n");
   appendSubject(&t, m->subject);
   appendDate(&t, m->date);
   if (m->messageId)
      textPrintf(&t, "Message-ID: %s\r\n", m->messageId);
   textPuts(&t, "MIME-Version: 1.0\r\n");
   textPrintf(&t, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", m->boundary);
   textPuts(&t, "This is a MIME message.\r\n");
   textPrintf(&t, "\r\n--%s\r\n", m->boundary);
   textPuts(&t, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
   textAppendCrlf(&t, m->body);
   if (t.len < 2 || strcmp(t.data + t.len - 2, "\r\n") != 0)
      textPuts(&t, "\r\n");
   if (m->attachmentName) {
      textPrintf(&t, "\r\n--%s\r\n", m->boundary);
      textPrintf(&t, "Content-Type: %s; name=\"%s\"\r\n", m->attachmentType, m->attachmentName);
      textPuts(&t, "Content-Transfer-Encoding: base64\r\n");
      textPrintf(&t, "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", m->attachmentName);
      size_t n;
      char* b64 = Mail_base64(m->attachment, m->attachmentLen, &n);
      textAppend(&t, b64, n);
      free(b64);
   }
   textPrintf(&t, "\r\n--%s--\r\n", m->boundary);
   *len = t.len;
   return t.data;
}

/* libcurl pulls the message through this. */
typedef struct Upload_ {
   const char* data;
   size_t len, pos;
} Upload;

static size_t readUpload(char* buf, size_t size, size_t nitems, void* user) {
   Upload* u = user;
   size_t room = size * nitems;
   size_t n = u->len - u->pos < room ? u->len - u->pos : room;
   memcpy(buf, u->data + u->pos, n);
   u->pos += n;
   return n;
}

int Mail_send(const MailServer* server, const char* from, const char* const* to, size_t toCount, const char* message,
              size_t len, char* err, size_t errSize) {
   const CurlApi* api = CurlApi_get(err, errSize);
   if (!api)
      return -1;
   CURL* curl = api->easyInit();
   if (!curl) {
      Util_format(err, errSize, "libcurl could not start a transfer");
      return -1;
   }
   struct curl_slist* rcpt = NULL;
   for (size_t i = 0; i < toCount; i++)
      rcpt = api->slistAppend(rcpt, to[i]);
   Upload up = { .data = message, .len = len };
   char curlErr[CURL_ERROR_SIZE] = "";
   api->easySetopt(curl, CURLOPT_URL, server->url);
   api->easySetopt(curl, CURLOPT_MAIL_FROM, from);
   api->easySetopt(curl, CURLOPT_MAIL_RCPT, rcpt);
   api->easySetopt(curl, CURLOPT_READFUNCTION, readUpload);
   api->easySetopt(curl, CURLOPT_READDATA, &up);
   api->easySetopt(curl, CURLOPT_UPLOAD, 1L);
   api->easySetopt(curl, CURLOPT_NOSIGNAL, 1L);
   api->easySetopt(curl, CURLOPT_ERRORBUFFER, curlErr);
   api->easySetopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
   api->easySetopt(curl, CURLOPT_TIMEOUT_MS, (long)(server->timeoutS * 1000));
   if (server->tlsRequired)
      api->easySetopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
   if (server->user) {
      api->easySetopt(curl, CURLOPT_USERNAME, server->user);
      api->easySetopt(curl, CURLOPT_PASSWORD, server->password ? server->password : "");
   }
   CURLcode rc = api->easyPerform(curl);
   if (rc != CURLE_OK)
      Util_format(err, errSize, "%s: %s", server->url, curlErr[0] ? curlErr : api->easyStrerror(rc));
   api->slistFreeAll(rcpt);
   api->easyCleanup(curl);
   return rc == CURLE_OK ? 0 : -1;
}
