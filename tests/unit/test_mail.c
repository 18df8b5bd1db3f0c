/* Mail: base64 against RFC 4648 vectors and line wrapping, the MIME message
 * (headers, CRLF everywhere, attachment decodes back, RFC 2047 subject), the
 * retry backoff, and the durable queue keeping a mail the server refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Mail.h"
#include "stacktop/MailQueue.h"
#include "stacktop/Util.h"
#include "stacktop/WatchConfig.h"

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
                                 "Content-Type: multipart/mixed; boundary=\"stacktop-b0undary\"\r\n\r\n";
   assert_memory_equal(msg, headers, sizeof(headers) - 1);
   /* Every line ends with CRLF: no bare LF and no bare CR. */
   for (size_t i = 0; i < len; i++) {
      if (msg[i] == '\n')
         assert_true(i > 0 && msg[i - 1] == '\r');
      if (msg[i] == '\r')
         assert_true(msg[i + 1] == '\n');
   }
   assert_non_null(strstr(msg, "\r\n--stacktop-b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: 8bit\r\n\r\nline one\r\nline two\r\n.leading dot\r\n"));
   const char* part =
       strstr(msg, "Content-Type: application/gzip; name=\"h-A-cpu_above-20260101T000000.tar.gz\"\r\n"
                   "Content-Transfer-Encoding: base64\r\n"
                   "Content-Disposition: attachment; filename=\"h-A-cpu_above-20260101T000000.tar.gz\"\r\n\r\n");
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

static void test_backoff(void** state) {
   (void)state;
   assert_true(MailQueue_backoff(60, 1) == 60);
   assert_true(MailQueue_backoff(60, 2) == 120);
   assert_true(MailQueue_backoff(60, 4) == 480);
   assert_true(MailQueue_backoff(60, 7) == 3600);
   assert_true(MailQueue_backoff(60, 1000) == 3600);
   assert_true(MailQueue_backoff(0.5, 3) == 2);
}

/* A mail the server refuses stays queued with its attempt counted, and a
 * restarted watcher (a fresh read of the directory) still finds it. */
static void test_queue_keeps_refused_mail(void** state) {
   (void)state;
   char dir[] = "/tmp/stacktop-mailq-XXXXXX";
   assert_non_null(mkdtemp(dir));
   char conf[1024], err[512], bundle[600], queued[600];
   snprintf(conf, sizeof(conf),
            "[global]\nbundle_dir = %s\nmail_to = a@b.c\nmail_from = s@b.c\n"
            "smtp_url = smtp://127.0.0.1:1\nmail_retry = 10m\n[service x]\nmatch = pid:1\nrestart = alert\n",
            dir);
   WatchConfig c;
   assert_int_equal(WatchConfig_loadString(&c, conf, "q.conf", err, sizeof(err)), 0);
   snprintf(bundle, sizeof(bundle), "%s/h-x-restart-20260101T000000.tar.gz", dir);
   snprintf(queued, sizeof(queued), "%s/h-x-restart-20260101T000000.mail", dir);
   FILE* f = fopen(bundle, "w");
   fputs("not really a tarball", f);
   fclose(f);
   assert_int_equal(MailQueue_add(bundle, "subject line", "body\ntext\n", 1000, err, sizeof(err)), 0);
   assert_true(MailQueue_isPending(bundle));
   assert_int_equal(MailQueue_process(&c, 1000, false), 1);
   size_t len;
   char* text = Util_slurp(queued, 1 << 16, &len);
   assert_non_null(text);
   assert_non_null(strstr(text, "\nattempts: 1\nnext: 1600.000\nsubject: subject line\n\nbody\ntext\n"));
   free(text);
   /* Not due yet: untouched. */
   assert_int_equal(MailQueue_process(&c, 1500, false), 1);
   text = Util_slurp(queued, 1 << 16, &len);
   assert_non_null(strstr(text, "\nattempts: 1\n"));
   free(text);
   /* Forced (as at start-up): tried again, backoff doubles. */
   assert_int_equal(MailQueue_process(&c, 1500, true), 1);
   text = Util_slurp(queued, 1 << 16, &len);
   assert_non_null(strstr(text, "\nattempts: 2\nnext: 2700.000\n"));
   free(text);
   unlink(queued);
   unlink(bundle);
   rmdir(dir);
   WatchConfig_free(&c);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64_vectors), cmocka_unit_test(test_base64_lines),
      cmocka_unit_test(test_message),        cmocka_unit_test(test_message_without_attachment_and_utf8_subject),
      cmocka_unit_test(test_backoff),        cmocka_unit_test(test_queue_keeps_refused_mail),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
