/* MIME building and SMTP delivery. */
#include "stacktop/Mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stacktop/CurlApi.h"
#include "stacktop/Util.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define LINE_MAX_CHARS 78
/* An RFC 2047 encoded word is at most 75 characters; 42 bytes make 56 in base64,
 * so "Subject: " and one word stay within 78. */
#define ENCODED_WORD_BYTES 42

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

/* ---- quoted-printable */

/* Appends one encoded unit, breaking the line softly first if it would pass 76. */
static void qpUnit(Text* t, size_t* col, const char* unit, size_t n) {
   if (*col + n > 75) {
      textPuts(t, "=\r\n");
      *col = 0;
   }
   textAppend(t, unit, n);
   *col += n;
}

static void qpLine(Text* t, const char* s, size_t len) {
   static const char hex[] = "0123456789ABCDEF";
   size_t col = 0;
   for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      bool last = i + 1 == len;
      /* Trailing blanks would be stripped in transit: encode them. */
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      /* A line starting with "." or "From " survives any MTA when encoded. */
      if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 && strncmp(s + i, "From ", 5) == 0)))
         literal = false;
      if (literal) {
         char one = (char)c;
         qpUnit(t, &col, &one, 1);
      } else {
         char esc[3] = { '=', hex[c >> 4], hex[c & 15] };
         qpUnit(t, &col, esc, 3);
      }
   }
   textPuts(t, "\r\n");
}

char* Mail_quotedPrintable(const char* text, size_t* outLen) {
   Text t = { 0 };
   textPuts(&t, "");
   const char* p = text;
   while (*p) {
      size_t n = strcspn(p, "\n");
      size_t content = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
      qpLine(&t, p, content);
      p += n;
      if (*p == '\n')
         p++;
   }
   if (outLen)
      *outLen = t.len;
   return t.data;
}

/* ---- headers */

static bool fitsPlain(const char* s, size_t room) {
   size_t n = 0;
   for (; *s; s++, n++) {
      unsigned char c = (unsigned char)*s;
      if (c >= 0x80 || c < 0x20 || c == 0x7f)
         return false;
   }
   return n <= room;
}

/* Length of the longest prefix of s (at most max bytes) that ends on a UTF-8
 * character boundary, so no encoded word holds half a character. */
static size_t utf8Prefix(const char* s, size_t left, size_t max) {
   if (left <= max)
      return left;
   size_t n = max;
   while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
      n--;
   return n > 0 ? n : max;
}

/* "Name: value" folded at 78: plain if it fits, else RFC 2047 encoded words,
 * one per line. */
static void appendTextHeader(Text* t, const char* name, const char* value) {
   if (fitsPlain(value, LINE_MAX_CHARS - strlen(name) - 2)) {
      textPrintf(t, "%s: %s\r\n", name, value);
      return;
   }
   textPrintf(t, "%s:", name);
   size_t len = strlen(value);
   char enc[ENCODED_WORD_BYTES / 3 * 4 + 8];
   for (size_t i = 0; i < len || i == 0;) {
      size_t n = utf8Prefix(value + i, len - i, ENCODED_WORD_BYTES);
      base64Plain((const unsigned char*)value + i, n, enc);
      textPrintf(t, "%s=?UTF-8?B?%s?=\r\n", i ? " " : " ", enc);
      i += n;
      if (n == 0)
         break;
   }
}

/* "To: a, b, ..." with one address per line after the first when long. */
static void appendAddressList(Text* t, const char* name, const char* const* list, size_t count) {
   textPrintf(t, "%s: ", name);
   size_t col = strlen(name) + 2;
   for (size_t i = 0; i < count; i++) {
      size_t n = strlen(list[i]) + (i + 1 < count ? 1 : 0);
      if (i > 0 && col + 1 + n > LINE_MAX_CHARS) {
         textPuts(t, "\r\n ");
         col = 1;
      } else if (i > 0) {
         textPuts(t, " ");
         col++;
      }
      textPrintf(t, "%s%s", list[i], i + 1 < count ? "," : "");
      col += n;
   }
   textPuts(t, "\r\n");
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

/* A file name safe inside a quoted header parameter. */
static void safeFileName(char* out, size_t size, const char* in) {
   size_t o = 0;
   for (; *in && o + 1 < size; in++) {
      char c = *in;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-';
      out[o++] = ok ? c : '_';
   }
   out[o] = '\0';
}

char* Mail_build(const MailMessage* m, size_t* len) {
   Text t = { 0 };
   textPrintf(&t, "From: %s\r\n", m->from);
   appendAddressList(&t, "To", m->to, m->toCount);
   appendTextHeader(&t, "Subject", m->subject);
   appendDate(&t, m->date);
   if (m->messageId)
      textPrintf(&t, "Message-ID: %s\r\n", m->messageId);
   textPuts(&t, "MIME-Version: 1.0\r\n");
   textPrintf(&t, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", m->boundary);
   textPuts(&t, "This is a MIME message.\r\n");
   textPrintf(&t, "\r\n--%s\r\n", m->boundary);
   textPuts(&t, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
   size_t qpLen;
   char* qp = Mail_quotedPrintable(m->body, &qpLen);
   textAppend(&t, qp, qpLen);
   free(qp);
   if (m->attachmentName) {
      char name[256];
      safeFileName(name, sizeof(name), m->attachmentName);
      textPrintf(&t, "\r\n--%s\r\n", m->boundary);
      textPrintf(&t, "Content-Type: %s;\r\n name=\"%s\"\r\n", m->attachmentType, name);
      textPuts(&t, "Content-Transfer-Encoding: base64\r\n");
      textPrintf(&t, "Content-Disposition: attachment;\r\n filename=\"%s\"\r\n\r\n", name);
      size_t n;
      char* b64 = Mail_base64(m->attachment, m->attachmentLen, &n);
      textAppend(&t, b64, n);
      free(b64);
   }
   textPrintf(&t, "\r\n--%s--\r\n", m->boundary);
   *len = t.len;
   return t.data;
}

/* ---- delivery */

/* The attempt's absolute deadline: libcurl's own SMTP reply timeout does not
 * always give way to CURLOPT_TIMEOUT, so the transfer is also cut here. */
static int onProgress(void* user, curl_off_t dlTotal, curl_off_t dlNow, curl_off_t ulTotal, curl_off_t ulNow) {
   (void)dlTotal;
   (void)dlNow;
   (void)ulTotal;
   (void)ulNow;
   return Util_monotonicSeconds() > *(const double*)user ? 1 : 0;
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

/* The SMTP dialogue as libcurl reports it: which RCPT got which reply. */
typedef struct Dialogue_ {
   MailOutcome* outcomes;
   size_t count;
   size_t rcptSent;   /* RCPT commands sent so far */
   bool awaitingRcpt; /* the last command was a RCPT */
   char line[512];    /* a reply line being assembled */
   size_t lineLen;
   char last[512]; /* the last complete reply: what a failure was about */
} Dialogue;

static void replyLine(Dialogue* d, const char* line) {
   /* "250-more" continues a multi-line reply; "250 text" ends it. */
   if (strlen(line) < 4 || line[3] != ' ')
      return;
   Util_format(d->last, sizeof(d->last), "%s", line);
   if (!d->awaitingRcpt)
      return;
   d->awaitingRcpt = false;
   size_t i = d->rcptSent - 1;
   if (i >= d->count)
      return;
   int code = atoi(line);
   if (code >= 200 && code < 300)
      return; /* accepted: the outcome is decided by the end of DATA */
   d->outcomes[i].code = code;
   Util_format(d->outcomes[i].reason, sizeof(d->outcomes[i].reason), "RCPT refused: %s", line);
}

static int onDebug(CURL* curl, curl_infotype type, char* data, size_t size, void* user) {
   (void)curl;
   Dialogue* d = user;
   if (type == CURLINFO_HEADER_OUT && size >= 8 && strncmp(data, "RCPT TO:", 8) == 0) {
      d->rcptSent++;
      d->awaitingRcpt = true;
      d->lineLen = 0;
   } else if (type == CURLINFO_HEADER_IN) {
      for (size_t i = 0; i < size; i++) {
         char c = data[i];
         if (c == '\n') {
            d->line[d->lineLen] = '\0';
            replyLine(d, d->line);
            d->lineLen = 0;
         } else if (c == '\r') {
            continue;
         } else if (d->lineLen + 1 < sizeof(d->line)) {
            d->line[d->lineLen++] = (c >= 0x20 && c < 0x7f) ? c : '?';
         }
      }
   }
   return 0;
}

bool Mail_isPermanent(const MailOutcome* outcome) {
   return !outcome->sent && outcome->code >= 500 && outcome->code < 600;
}

static void failAll(MailOutcome* outcomes, size_t count, int code, const char* reason) {
   for (size_t i = 0; i < count; i++) {
      if (outcomes[i].code != 0 || outcomes[i].sent)
         continue; /* already refused at RCPT */
      outcomes[i].code = code;
      Util_format(outcomes[i].reason, sizeof(outcomes[i].reason), "%s", reason);
   }
}

size_t Mail_send(const MailServer* server, const char* from, const char* const* to, size_t toCount, const char* message,
                 size_t len, MailOutcome* outcomes) {
   memset(outcomes, 0, toCount * sizeof(MailOutcome));
   char err[512];
   const CurlApi* api = CurlApi_get(err, sizeof(err));
   CURL* curl = api ? api->easyInit() : NULL;
   if (!curl) {
      failAll(outcomes, toCount, 0, api ? "libcurl could not start a transfer" : err);
      return 0;
   }
   struct curl_slist* rcpt = NULL;
   for (size_t i = 0; i < toCount; i++)
      rcpt = api->slistAppend(rcpt, to[i]);
   Upload up = { .data = message, .len = len };
   Dialogue d = { .outcomes = outcomes, .count = toCount };
   char curlErr[CURL_ERROR_SIZE] = "";
   long timeoutMs = (long)(server->timeoutS * 1000);
   api->easySetopt(curl, CURLOPT_URL, server->url);
   api->easySetopt(curl, CURLOPT_MAIL_FROM, from);
   api->easySetopt(curl, CURLOPT_MAIL_RCPT, rcpt);
   /* Go on past a refused recipient; the dialogue tells which. */
   api->easySetopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
   api->easySetopt(curl, CURLOPT_READFUNCTION, readUpload);
   api->easySetopt(curl, CURLOPT_READDATA, &up);
   api->easySetopt(curl, CURLOPT_UPLOAD, 1L);
   api->easySetopt(curl, CURLOPT_NOSIGNAL, 1L);
   api->easySetopt(curl, CURLOPT_ERRORBUFFER, curlErr);
   api->easySetopt(curl, CURLOPT_VERBOSE, 1L);
   api->easySetopt(curl, CURLOPT_DEBUGFUNCTION, onDebug);
   api->easySetopt(curl, CURLOPT_DEBUGDATA, &d);
   api->easySetopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs < 10000 ? (timeoutMs > 0 ? timeoutMs : 1L) : 10000L);
   api->easySetopt(curl, CURLOPT_TIMEOUT_MS, timeoutMs > 0 ? timeoutMs : 1L);
   /* libcurl waits for the reply to the end of DATA outside its overall
    * timeout, once per phase: half the budget each keeps the sum in it. */
   long replyS = (long)(server->timeoutS / 2);
   api->easySetopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, replyS > 0 ? replyS : 1L);
   double deadline = Util_monotonicSeconds() + server->timeoutS;
   api->easySetopt(curl, CURLOPT_NOPROGRESS, 0L);
   api->easySetopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
   api->easySetopt(curl, CURLOPT_XFERINFODATA, &deadline);
   if (server->tlsRequired)
      api->easySetopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
   if (server->user) {
      api->easySetopt(curl, CURLOPT_USERNAME, server->user);
      api->easySetopt(curl, CURLOPT_PASSWORD, server->password ? server->password : "");
   }
   CURLcode rc = api->easyPerform(curl);
   long code = 0;
   api->easyGetinfo(curl, CURLINFO_RESPONSE_CODE, &code);
   size_t sent = 0;
   if (rc == CURLE_OK) {
      for (size_t i = 0; i < toCount; i++) {
         outcomes[i].sent = outcomes[i].code == 0;
         sent += outcomes[i].sent;
      }
   } else {
      char reason[1200];
      /* The server's own words when it refused; libcurl's otherwise. */
      if (code >= 400 && d.last[0])
         Util_format(reason, sizeof(reason), "%s refused: %s", server->url, d.last);
      else
         Util_format(reason, sizeof(reason), "%s: %s", server->url, curlErr[0] ? curlErr : api->easyStrerror(rc));
      /* A timeout or a broken connection is no verdict on the mail. */
      bool noReply = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_COULDNT_CONNECT ||
                     rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
      failAll(outcomes, toCount, noReply ? 0 : (int)code, reason);
   }
   api->slistFreeAll(rcpt);
   api->easyCleanup(curl);
   return sent;
}
