/* Mail: base64 against RFC 4648 vectors and line wrapping, the MIME message
 * (headers, CRLF everywhere, no line over 78 characters: folded headers,
 * quoted-printable body that decodes back, RFC 2047 subject, attachment
 * decodes back), and which SMTP refusals are permanent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Mail.h"
#include "stacktop/Util.h"

static void test_base64_vectors(void** state) {
   (void)state;
   static const struct {
      const char* in;
      const char* out;
   } v[] = {
      { "", "" },
      { "f", "Zg==\r\n" },
      { "fo", "Zm8=\r\n" },
      { "foo", "Zm9v\r\n" },
      { "foob", "Zm9vYg==\r\n" },
      { "fooba", "Zm9vYmE=\r\n" },
      { "foobar", "Zm9vYmFy\r\n" },
   };
   for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
      size_t len;
      char* b = Mail_base64((const unsigned char*)v[i].in, strlen(v[i].in), &len);
      assert_string_equal(b, v[i].out);
      assert_int_equal(len, strlen(v[i].out));
      free(b);
   }
}

/* Decodes base64 ignoring CRLF; returns the byte count. */
static size_t decode64(const char* s, unsigned char* out) {
   static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
   unsigned acc = 0;
   int bits = 0;
   size_t n = 0;
   for (; *s; s++) {
      const char* p = strchr(alphabet, *s);
      if (*s == '=' || !p || *s == '\0')
         continue;
      acc = (acc << 6) | (unsigned)(p - alphabet);
      bits += 6;
      if (bits >= 8) {
         bits -= 8;
         out[n++] = (unsigned char)(acc >> bits);
      }
   }
   return n;
}

static void test_base64_lines(void** state) {
   (void)state;
   unsigned char data[1000];
   for (size_t i = 0; i < sizeof(data); i++)
      data[i] = (unsigned char)(i * 7 + 3);
   size_t len;
   char* b = Mail_base64(data, sizeof(data), &len);
   /* 1000 bytes = 1336 characters = 17 full lines of 76 and one of 44. */
   size_t lines = 0;
   for (char* line = b; *line; lines++) {
      char* end = strstr(line, "\r\n");
      assert_non_null(end);
      size_t n = (size_t)(end - line);
      assert_true(n == 76 || (n == 44 && end[2] == '\0'));
      line = end + 2;
   }
   assert_int_equal(lines, 18);
   unsigned char back[1000];
   assert_int_equal(decode64(b, back), sizeof(data));
   assert_memory_equal(back, data, sizeof(data));
   free(b);
}

/* Decodes quoted-printable (soft breaks removed, CRLF back to LF). Caller frees. */
static char* decodeQp(const char* s) {
   char* out = Util_xmalloc(strlen(s) + 1);
   size_t o = 0;
   for (; *s; s++) {
      if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
         s += 2;
      } else if (s[0] == '=' && s[1] && s[2]) {
         unsigned v;
         sscanf(s + 1, "%2X", &v);
         out[o++] = (char)v;
         s += 2;
      } else if (s[0] == '\r' && s[1] == '\n') {
         out[o++] = '\n';
         s++;
      } else {
         out[o++] = *s;
      }
   }
   out[o] = '\0';
   return out;
}

static void assertCrlfAndShortLines(const char* msg, size_t len) {
   size_t col = 0;
   for (size_t i = 0; i < len; i++) {
      if (msg[i] == '\n')
         assert_true(i > 0 && msg[i - 1] == '\r');
      if (msg[i] == '\r')
         assert_true(msg[i + 1] == '\n');
      if (msg[i] == '\r') {
         col = 0;
         i++;
         continue;
      }
      col++;
      if (col > 78)
         fail_msg("line longer than 78 characters at byte %zu: %.100s", i, msg + i - 78);
   }
}

static void test_message(void** state) {
   (void)state;
   const char* to[] = { "ops@example.com", "dev@example.com" };
   const unsigned char attachment[] = { 0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x41 };
   MailMessage m = {
      .from = "stacktop@h.example.com",
      .to = to,
      .toCount = 2,
      .subject = "[stacktop] h: A cpu_above fired",
      .body = "line one\nline two\n.leading dot\n",
      .attachmentName = "h-A-cpu_above-20260101T000000.tar.gz",
      .attachmentType = "application/gzip",
      .attachment = attachment,
      .attachmentLen = sizeof(attachment),
      .date = 1767225600.0, /* 2026-01-01 00:00:00 UTC, a Thursday */
      .boundary = "stacktop-b0undary",
      .messageId = "<x@h.example.com>",
   };
   size_t len;
   char* msg = Mail_build(&m, &len);
   assert_int_equal(strlen(msg), len);
   static const char headers[] = "From: stacktop@h.example.com\r\nTo: ops@example.com, dev@example.com\r\n"
                                 "Subject: [stacktop] h: A cpu_above fired\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                                 "Message-ID: <x@h.example.com>\r\nMIME-Version: 1.0\r\n"
                                 "Content-Type: multipart/mixed;\r\n boundary=\"stacktop-b0undary\"\r\n\r\n";
   assert_memory_equal(msg, headers, sizeof(headers) - 1);
   assertCrlfAndShortLines(msg, len);
   /* A leading dot is encoded: no SMTP server can take it for the end of DATA. */
   assert_non_null(strstr(msg, "\r\n--stacktop-b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\nline one\r\nline two\r\n"
                               "=2Eleading dot\r\n"));
   const char* part =
       strstr(msg, "Content-Type: application/gzip;\r\n name=\"h-A-cpu_above-20260101T000000.tar.gz\"\r\n"
                   "Content-Transfer-Encoding: base64\r\n"
                   "Content-Disposition: attachment;\r\n"
                   " filename=\"h-A-cpu_above-20260101T000000.tar.gz\"\r\n\r\n");
   assert_non_null(part);
   const char* b64 = strstr(part, "\r\n\r\n") + 4;
   const char* end = strstr(b64, "\r\n--stacktop-b0undary--\r\n");
   assert_non_null(end);
   assert_string_equal(end, "\r\n--stacktop-b0undary--\r\n");
   char* copy = Util_xstrdup(b64);
   copy[end - b64] = '\0';
   unsigned char back[16];
   assert_int_equal(decode64(copy, back), sizeof(attachment));
   assert_memory_equal(back, attachment, sizeof(attachment));
   free(copy);
   free(msg);
}

/* RFC 5322: no line over 78 characters (servers refuse lines over 998 with
 * "500 Line too long"), whatever the command lines, subject and recipients. */
static void test_long_lines_are_folded_or_encoded(void** state) {
   (void)state;
   char body[6000], subject[300];
   size_t n = 0;
   n += (size_t)snprintf(body + n, sizeof(body) - n, "processes:\n  4242 java ");
   for (int i = 0; i < 300; i++)
      n += (size_t)snprintf(body + n, sizeof(body) - n, "-Dk%d=v ", i);
   n += (size_t)snprintf(body + n, sizeof(body) - n, "\ntrailing blank \nFrom the start\n=sign\n\xc3\xa9t\xc3\xa9\n");
   memset(subject, 'S', sizeof(subject) - 1);
   subject[sizeof(subject) - 1] = '\0';
   subject[100] = ' ';
   const char* to[] = { "first.person@a-rather-long-domain.example.com",
                        "second.person@a-rather-long-domain.example.com",
                        "third.person@a-rather-long-domain.example.com" };
   MailMessage m = { .from = "s@b.c", .to = to, .toCount = 3, .subject = subject, .body = body, .boundary = "bnd" };
   size_t len;
   char* msg = Mail_build(&m, &len);
   assertCrlfAndShortLines(msg, len);
   assert_non_null(strstr(msg, "To: first.person@a-rather-long-domain.example.com,\r\n second.person@"));
   const char* text = strstr(msg, "quoted-printable\r\n\r\n") + strlen("quoted-printable\r\n\r\n");
   char* part = Util_xstrdup(text);
   *strstr(part, "\r\n--bnd--") = '\0';
   char* decoded = decodeQp(part);
   assert_string_equal(decoded, body);
   free(decoded);
   free(part);
   free(msg);
}

static void test_quoted_printable(void** state) {
   (void)state;
   size_t len;
   char* qp = Mail_quotedPrintable("a=b \nend\t\n\xc3\xa4\n", &len);
   assert_string_equal(qp, "a=3Db=20\r\nend=09\r\n=C3=A4\r\n");
   assert_int_equal(len, strlen(qp));
   free(qp);
}

static void test_message_without_attachment_and_utf8_subject(void** state) {
   (void)state;
   const char* to[] = { "a@b.c" };
   MailMessage m = { .from = "s@b.c",
                     .to = to,
                     .toCount = 1,
                     .subject = "Dienst \xc3\xa4 fired",
                     .body = "no newline at end",
                     .date = 0,
                     .boundary = "bnd" };
   size_t len;
   char* msg = Mail_build(&m, &len);
   assert_non_null(strstr(msg, "Subject: =?UTF-8?B?RGllbnN0IMOkIGZpcmVk?=\r\n"));
   assert_null(strstr(msg, "Content-Disposition"));
   assert_non_null(strstr(msg, "no newline at end\r\n\r\n--bnd--\r\n"));
   assert_null(strstr(msg, "Message-ID"));
   free(msg);
}

static void test_permanent(void** state) {
   (void)state;
   MailOutcome o = { .code = 550 };
   assert_true(Mail_isPermanent(&o));
   o.code = 451;
   assert_false(Mail_isPermanent(&o));
   o.code = 0; /* no reply at all: a connection problem, not a verdict */
   assert_false(Mail_isPermanent(&o));
   o = (MailOutcome){ .sent = true, .code = 0 };
   assert_false(Mail_isPermanent(&o));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64_vectors),   cmocka_unit_test(test_base64_lines),
      cmocka_unit_test(test_message),          cmocka_unit_test(test_long_lines_are_folded_or_encoded),
      cmocka_unit_test(test_quoted_printable), cmocka_unit_test(test_message_without_attachment_and_utf8_subject),
      cmocka_unit_test(test_permanent),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
