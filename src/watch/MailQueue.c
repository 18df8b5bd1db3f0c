/* The durable pending-mail queue; see MailQueue.h. */
#include "stacktop/MailQueue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Mail.h"
#include "stacktop/Printable.h"
#include "stacktop/Record.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

#define MAIL_KIND "mail"
#define BUNDLE_SUFFIX ".tar.gz"
#define FAILED_SUFFIX ".FAILED"
#define BACKOFF_MAX_S 3600.0

double MailQueue_backoff(double firstS, unsigned attempts) {
   double d = firstS;
   for (unsigned i = 1; i < attempts && d < BACKOFF_MAX_S; i++)
      d *= 2;
   return d > BACKOFF_MAX_S ? BACKOFF_MAX_S : d;
}

static void randomHex(char* out, size_t bytes) {
   unsigned char r[16];
   if (bytes > sizeof(r))
      bytes = sizeof(r);
   if (getrandom(r, bytes, 0) != (ssize_t)bytes) {
      /* No entropy: time and pid still make it unique on this host. */
      double t = Util_wallSeconds();
      memcpy(r, &t, bytes < sizeof(t) ? bytes : sizeof(t));
      r[0] ^= (unsigned char)getpid();
   }
   static const char hex[] = "0123456789abcdef";
   for (size_t i = 0; i < bytes; i++) {
      out[2 * i] = hex[r[i] >> 4];
      out[2 * i + 1] = hex[r[i] & 15];
   }
   out[2 * bytes] = '\0';
}

/* A host name usable after '@' in a Message-ID. */
static void idHost(char* out, size_t size, const char* host) {
   size_t o = 0;
   for (; *host && o + 1 < size; host++) {
      char c = *host;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      out[o++] = ok ? c : '-';
   }
   out[o] = '\0';
   if (o == 0)
      Util_format(out, size, "localhost");
}

int MailQueue_add(int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], const char* stem, bool bundle,
                  const char* host, const char* subject, const char* body, const char* const* to, size_t toCount,
                  char* err, size_t errSize) {
   char rnd[33], h[256], id[700], file[NAME_MAX + 1];
   randomHex(rnd, 16);
   idHost(h, sizeof(h), host);
   /* Unique per mail, the same for every attempt: a receiver can drop a
    * duplicate of a retried mail, never two different incidents. */
   Util_format(id, sizeof(id), "<stacktop.%s.%s@%s>", rnd, stem, h);
   Util_format(file, sizeof(file), "%s%s", stem, MAILQUEUE_SUFFIX);
   Record r;
   Record_init(&r, MAIL_KIND);
   Record_set(&r, "bundle", bundle ? stem : "");
   Record_set(&r, "message-id", id);
   Record_setf(&r, "date", "%.3f", Util_wallSeconds());
   Record_set(&r, "attempts", "0");
   Record_set(&r, "next", "0");
   for (size_t i = 0; i < toCount; i++)
      Record_setf(&r, "rcpt", "0 %s", to[i]);
   Record_set(&r, "subject", subject);
   Record_setBody(&r, body);
   int rc = Record_save(&r, dirFd, file, key, err, errSize);
   Record_free(&r);
   return rc;
}

bool MailQueue_isPending(int dirFd, const char* stem) {
   char file[NAME_MAX + 1];
   struct stat sb;
   Util_format(file, sizeof(file), "%s%s", stem, MAILQUEUE_SUFFIX);
   return fstatat(dirFd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static void quarantine(int dirFd, const char* name, const char* why) {
   if (Record_quarantine(dirFd, name) == 0)
      WatchLog_write(WATCHLOG_WARNING, NULL,
                     "%s in bundle_dir was not written by stacktop (%s): not sent, moved to %s.quarantined", name, why,
                     name);
   else
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s in bundle_dir was not written by stacktop (%s) and cannot be moved: %s",
                     name, why, strerror(errno));
}

void MailQueue_scan(int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], double nowWall, bool all,
                    MailQueueScan* out) {
   memset(out, 0, sizeof(*out));
   size_t count;
   char** names = BundleDir_list(dirFd, MAILQUEUE_SUFFIX, &count);
   double best = 0;
   char bestName[NAME_MAX + 1] = "";
   for (size_t i = 0; i < count; i++) {
      Record r;
      char why[600];
      RecordStatus st = Record_load(&r, dirFd, names[i], MAIL_KIND, key, why, sizeof(why));
      double next = Record_getDouble(&r, "next", 0);
      Record_free(&r);
      if (st == RECORD_FORGED)
         quarantine(dirFd, names[i], why);
      if (st != RECORD_OK)
         continue; /* quarantined, gone meanwhile, or a format from another version: left alone */
      out->pending++;
      /* A next attempt more than the longest backoff away means the clock went back: due now. */
      if (all || next <= nowWall || next - nowWall > BACKOFF_MAX_S * 1.5)
         next = 0;
      if (!bestName[0] || next < best) {
         best = next;
         Util_format(bestName, sizeof(bestName), "%s", names[i]);
      }
   }
   for (size_t i = 0; i < count; i++)
      free(names[i]);
   free(names);
   if (bestName[0] && best <= 0)
      Util_format(out->due, sizeof(out->due), "%s", bestName);
   else if (bestName[0])
      out->nextWall = best;
}

/* ---- one attempt */

typedef struct Recipient_ {
   char* address;
   unsigned permanent; /* 5xx refusals so far */
} Recipient;

typedef struct Entry_ {
   Record record;
   Recipient* rcpt;
   size_t rcptCount;
} Entry;

static void entryFree(Entry* e) {
   for (size_t i = 0; i < e->rcptCount; i++)
      free(e->rcpt[i].address);
   free(e->rcpt);
   Record_free(&e->record);
}

static void entryRecipients(Entry* e) {
   for (size_t i = 0; i < e->record.count; i++) {
      if (strcmp(e->record.fields[i].key, "rcpt") != 0)
         continue;
      unsigned n;
      char addr[512];
      if (sscanf(e->record.fields[i].value, "%u %511s", &n, addr) != 2)
         continue;
      e->rcpt = Util_xrealloc(e->rcpt, (e->rcptCount + 1) * sizeof(Recipient));
      e->rcpt[e->rcptCount++] = (Recipient){ .address = Util_xstrdup(addr), .permanent = n };
   }
}

/* The note about the bundle at the end of the body, and the attachment. */
static char* bundleNote(const WatchConfig* c, int dirFd, const char* stem, unsigned char** data, size_t* size) {
   *data = NULL;
   *size = 0;
   char note[1200], file[NAME_MAX + 1];
   if (!stem[0])
      return Util_xstrdup("");
   Util_format(file, sizeof(file), "%s%s", stem, BUNDLE_SUFFIX);
   struct stat sb;
   int fd = BundleDir_openOwn(dirFd, file, &sb);
   if (fd < 0) {
      Util_format(note, sizeof(note), "\nThe bundle %s/%s on %s could not be read: %s\n", c->bundleDir, file,
                  c->hostname, strerror(errno));
      return Util_xstrdup(note);
   }
   close(fd);
   if ((unsigned long long)sb.st_size > c->mailMaxAttachment) {
      Util_format(note, sizeof(note),
                  "\nThe bundle (%lld bytes) is larger than mail_max_attachment (%llu bytes) and is not attached; "
                  "it is on %s at %s/%s\n",
                  (long long)sb.st_size, c->mailMaxAttachment, c->hostname, c->bundleDir, file);
      return Util_xstrdup(note);
   }
   *data = (unsigned char*)BundleDir_read(dirFd, file, (size_t)c->mailMaxAttachment + 1, size);
   if (!*data) {
      Util_format(note, sizeof(note), "\nThe bundle %s/%s on %s could not be read: %s\n", c->bundleDir, file,
                  c->hostname, strerror(errno));
      return Util_xstrdup(note);
   }
   Util_format(note, sizeof(note), "\nThe bundle is attached (%zu bytes); on %s it is %s/%s\n", *size, c->hostname,
               c->bundleDir, file);
   return Util_xstrdup(note);
}

static char* buildMessage(const WatchConfig* c, int dirFd, const Entry* e, const char* const* to, size_t toCount,
                          size_t* len) {
   const Record* r = &e->record;
   const char* stem = Record_get(r, "bundle");
   const char* id = Record_get(r, "message-id");
   unsigned char* data;
   size_t size;
   char* note = bundleNote(c, dirFd, stem ? stem : "", &data, &size);
   size_t bl = strlen(r->body);
   char* body = Util_xmalloc(bl + strlen(note) + 1);
   memcpy(body, r->body, bl);
   strcpy(body + bl, note);
   char boundary[128], attachName[NAME_MAX + 1];
   char rnd[17];
   randomHex(rnd, 8);
   Util_format(boundary, sizeof(boundary), "=_stacktop_%s", rnd);
   Util_format(attachName, sizeof(attachName), "%s%s", stem ? stem : "", BUNDLE_SUFFIX);
   MailMessage m = {
      .from = c->mailFrom,
      .to = to,
      .toCount = toCount,
      .subject = Record_get(r, "subject") ? Record_get(r, "subject") : "[stacktop]",
      .body = body,
      .attachmentName = data ? attachName : NULL,
      .attachmentType = "application/gzip",
      .attachment = data,
      .attachmentLen = size,
      .date = Record_getDouble(r, "date", Util_wallSeconds()),
      .boundary = boundary,
      .messageId = id,
   };
   char* msg = Mail_build(&m, len);
   free(body);
   free(note);
   free(data);
   return msg;
}

static MailServer serverOf(const WatchConfig* c) {
   return (MailServer){ .url = c->smtpUrl,
                        .user = c->smtpUser,
                        .password = c->smtpPassword,
                        .tlsRequired = c->smtpTlsRequired,
                        .timeoutS = c->mailTimeoutS };
}

/* NAME.FAILED: who did not get the mail about NAME and why (appended to). */
static void writeFailed(int dirFd, const char* stem, const char* lines) {
   char file[NAME_MAX + 1], err[512];
   Util_format(file, sizeof(file), "%s%s", stem, FAILED_SUFFIX);
   size_t oldLen = 0;
   char* old = BundleDir_read(dirFd, file, 1 << 20, &oldLen);
   size_t n = strlen(lines);
   char* text = Util_xmalloc(oldLen + n + 1);
   if (old)
      memcpy(text, old, oldLen);
   else
      oldLen = 0;
   memcpy(text + oldLen, lines, n + 1);
   if (BundleDir_write(dirFd, file, text, oldLen + n, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "cannot write %s: %s", file, err);
   free(old);
   free(text);
}

/* Rewrites the entry with the recipients still waiting, or removes it. */
static void settle(const WatchConfig* c, int dirFd, const unsigned char* key, const char* file, Entry* e, double delay,
                   char* failedLines) {
   const char* stem = Record_get(&e->record, "bundle");
   char stemBuf[NAME_MAX + 1];
   Util_format(stemBuf, sizeof(stemBuf), "%.*s", (int)(strlen(file) - strlen(MAILQUEUE_SUFFIX)), file);
   if (failedLines[0])
      writeFailed(dirFd, stem && stem[0] ? stem : stemBuf, failedLines);
   size_t waiting = 0;
   for (size_t i = 0; i < e->rcptCount; i++)
      waiting += e->rcpt[i].address != NULL;
   if (waiting == 0) {
      if (BundleDir_remove(dirFd, file) != 0)
         WatchLog_write(WATCHLOG_ERROR, NULL, "%s is done but cannot be removed: %s (it would be sent again)", file,
                        strerror(errno));
      return;
   }
   Record next;
   Record_init(&next, MAIL_KIND);
   for (size_t i = 0; i < e->record.count; i++) {
      const RecordField* f = &e->record.fields[i];
      if (strcmp(f->key, "rcpt") != 0 && strcmp(f->key, "next") != 0)
         Record_set(&next, f->key, f->value);
   }
   for (size_t i = 0; i < e->rcptCount; i++) {
      if (e->rcpt[i].address)
         Record_setf(&next, "rcpt", "%u %s", e->rcpt[i].permanent, e->rcpt[i].address);
   }
   /* From the end of this attempt: a slow server does not shorten the pause. */
   Record_setf(&next, "next", "%.3f", Util_wallSeconds() + delay);
   Record_setBody(&next, e->record.body);
   char err[512];
   if (Record_save(&next, dirFd, file, key, err, sizeof(err)) < 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s", err);
   Record_free(&next);
   (void)c;
}

size_t MailQueue_attempt(const WatchConfig* c, int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                         const char* file) {
   Entry e = { 0 };
   char why[600];
   RecordStatus st = Record_load(&e.record, dirFd, file, MAIL_KIND, key, why, sizeof(why));
   if (st != RECORD_OK) {
      if (st == RECORD_FORGED)
         quarantine(dirFd, file, why);
      entryFree(&e);
      return 0;
   }
   entryRecipients(&e);
   unsigned attempts = (unsigned)Record_getDouble(&e.record, "attempts", 0) + 1;
   char count[32], next[64];
   Util_format(count, sizeof(count), "%u", attempts);
   Record_replace(&e.record, "attempts", count);
   /* Counted before trying: should the attempt be killed at its deadline, the
    * entry still says when to try again (instead of at once, again and again). */
   Util_format(next, sizeof(next), "%.3f",
               Util_wallSeconds() + c->mailTimeoutS + MailQueue_backoff(c->mailRetryS, attempts));
   Record_replace(&e.record, "next", next);
   if (Record_save(&e.record, dirFd, file, key, why, sizeof(why)) < 0)
      WatchLog_write(WATCHLOG_WARNING, NULL, "%s", why);
   const char** to = Util_xcalloc(e.rcptCount ? e.rcptCount : 1, sizeof(char*));
   for (size_t i = 0; i < e.rcptCount; i++)
      to[i] = e.rcpt[i].address;
   MailOutcome* out = Util_xcalloc(e.rcptCount ? e.rcptCount : 1, sizeof(MailOutcome));
   size_t len;
   char* msg = buildMessage(c, dirFd, &e, to, e.rcptCount, &len);
   MailServer server = serverOf(c);
   size_t sent = e.rcptCount ? Mail_send(&server, c->mailFrom, to, e.rcptCount, msg, len, out) : 0;
   free(msg);
   double delay = MailQueue_backoff(c->mailRetryS, attempts);
   char failedLines[4096] = "";
   size_t waiting = 0;
   for (size_t i = 0; i < e.rcptCount; i++) {
      Recipient* r = &e.rcpt[i];
      if (out[i].sent) {
         WatchLog_write(WATCHLOG_NOTICE, NULL, "mailed %s to %s", file, r->address);
         free(r->address);
         r->address = NULL;
         continue;
      }
      bool permanent = Mail_isPermanent(&out[i]);
      r->permanent += permanent;
      if (permanent && r->permanent >= MAILQUEUE_PERMANENT_MAX) {
         WatchLog_write(WATCHLOG_ERROR, NULL, "mail %s to %s given up after %u refusals: %s", file, r->address,
                        r->permanent, out[i].reason);
         size_t used = strlen(failedLines);
         Util_format(failedLines + used, sizeof(failedLines) - used, "not delivered to %s after %u attempts: %s\n",
                     r->address, attempts, out[i].reason);
         free(r->address);
         r->address = NULL;
         continue;
      }
      waiting++;
      WatchLog_write(WATCHLOG_WARNING, NULL, "mail %s to %s not sent (attempt %u): %s; %s in %gs, the bundle is kept",
                     file, r->address, attempts, out[i].reason,
                     permanent ? "refused for good, trying again" : "retrying", delay);
   }
   (void)sent;
   settle(c, dirFd, key, file, &e, delay, failedLines);
   free(out);
   free(to);
   entryFree(&e);
   return waiting;
}

int MailQueue_sendNow(const WatchConfig* c, const char* subject, const char* body, const char* const* to,
                      size_t toCount) {
   char rnd[33], h[256], id[400], boundary[64];
   randomHex(rnd, 16);
   idHost(h, sizeof(h), c->hostname);
   Util_format(id, sizeof(id), "<stacktop.%s@%s>", rnd, h);
   Util_format(boundary, sizeof(boundary), "=_stacktop_%.16s", rnd);
   MailMessage m = { .from = c->mailFrom,
                     .to = to,
                     .toCount = toCount,
                     .subject = subject,
                     .body = body,
                     .date = Util_wallSeconds(),
                     .boundary = boundary,
                     .messageId = id };
   size_t len;
   char* msg = Mail_build(&m, &len);
   MailOutcome* out = Util_xcalloc(toCount ? toCount : 1, sizeof(MailOutcome));
   MailServer server = serverOf(c);
   size_t sent = Mail_send(&server, c->mailFrom, to, toCount, msg, len, out);
   for (size_t i = 0; i < toCount; i++) {
      if (out[i].sent)
         WatchLog_write(WATCHLOG_NOTICE, NULL, "mailed \"%s\" to %s", subject, to[i]);
      else
         WatchLog_write(WATCHLOG_WARNING, NULL, "mail \"%s\" to %s not sent: %s", subject, to[i], out[i].reason);
   }
   free(out);
   free(msg);
   return sent == toCount ? 0 : -1;
}
