/* The durable pending-mail queue. */
#include "stacktop/MailQueue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Mail.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

#define QUEUE_SUFFIX ".mail"
#define BUNDLE_SUFFIX ".tar.gz"
#define QUEUE_MAGIC "stacktop-pending-mail 1"

typedef struct PendingMail_ {
   char* bundle; /* absolute path of the bundle */
   unsigned attempts;
   double next; /* epoch seconds of the next attempt */
   char* subject;
   char* body;
} PendingMail;

static void pendingFree(PendingMail* p) {
   free(p->bundle);
   free(p->subject);
   free(p->body);
}

static char* queuePathOf(const char* bundlePath) {
   size_t len = strlen(bundlePath), sl = strlen(BUNDLE_SUFFIX);
   if (len > sl && strcmp(bundlePath + len - sl, BUNDLE_SUFFIX) == 0)
      len -= sl;
   char* q = Util_xmalloc(len + sizeof(QUEUE_SUFFIX));
   memcpy(q, bundlePath, len);
   strcpy(q + len, QUEUE_SUFFIX);
   return q;
}

double MailQueue_backoff(double firstS, unsigned attempts) {
   double d = firstS;
   for (unsigned i = 1; i < attempts && d < 3600; i++)
      d *= 2;
   return d > 3600 ? 3600 : d;
}

/* Writes the queue file atomically (temp file, fsync, rename). */
static int writePending(const char* path, const PendingMail* p, char* err, size_t errSize) {
   char tmp[4096];
   Util_format(tmp, sizeof(tmp), "%s.tmp", path);
   FILE* f = Util_openPrivate(tmp, O_TRUNC);
   if (!f) {
      Util_format(err, errSize, "cannot write %s: %s", tmp, strerror(errno));
      return -1;
   }
   fprintf(f, "%s\nbundle: %s\nattempts: %u\nnext: %.3f\nsubject: %s\n\n%s", QUEUE_MAGIC, p->bundle, p->attempts,
           p->next, p->subject, p->body);
   int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
   bad |= fclose(f) != 0;
   if (bad || rename(tmp, path) != 0) {
      Util_format(err, errSize, "cannot write %s: %s", path, strerror(errno));
      unlink(tmp);
      return -1;
   }
   return 0;
}

int MailQueue_add(const char* bundlePath, const char* subject, const char* body, double now, char* err,
                  size_t errSize) {
   PendingMail p = {
      .bundle = (char*)bundlePath, .attempts = 0, .next = now, .subject = (char*)subject, .body = (char*)body
   };
   char* path = queuePathOf(bundlePath);
   int rc = writePending(path, &p, err, errSize);
   free(path);
   return rc;
}

bool MailQueue_isPending(const char* bundlePath) {
   char* path = queuePathOf(bundlePath);
   bool pending = access(path, F_OK) == 0;
   free(path);
   return pending;
}

/* "key: value" header field of a queue file. */
static char* headerValue(char* line, const char* key) {
   size_t n = strlen(key);
   if (strncmp(line, key, n) != 0 || line[n] != ':' || line[n + 1] != ' ')
      return NULL;
   return line + n + 2;
}

static int readPending(const char* path, PendingMail* p) {
   size_t len;
   char* text = Util_slurp(path, 1 << 20, &len);
   if (!text)
      return -1;
   memset(p, 0, sizeof(*p));
   char* body = strstr(text, "\n\n");
   if (strncmp(text, QUEUE_MAGIC "\n", sizeof(QUEUE_MAGIC)) != 0 || !body) {
      free(text);
      return -1;
   }
   *body = '\0';
   p->body = Util_xstrdup(body + 2);
   char* save = NULL;
   for (char* line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char* v;
      if ((v = headerValue(line, "bundle")))
         p->bundle = Util_xstrdup(v);
      else if ((v = headerValue(line, "attempts")))
         p->attempts = (unsigned)strtoul(v, NULL, 10);
      else if ((v = headerValue(line, "next")))
         p->next = strtod(v, NULL);
      else if ((v = headerValue(line, "subject")))
         p->subject = Util_xstrdup(v);
   }
   free(text);
   if (!p->bundle || !p->subject) {
      pendingFree(p);
      return -1;
   }
   return 0;
}

static const char* baseName(const char* path) {
   const char* slash = strrchr(path, '/');
   return slash ? slash + 1 : path;
}

/* Builds the message: the bundle attached when it fits, else its path. */
static char* buildMessage(const WatchConfig* c, const PendingMail* p, size_t* len) {
   size_t size = 0;
   unsigned char* data = NULL;
   struct stat sb;
   bool present = stat(p->bundle, &sb) == 0;
   bool attach = present && (unsigned long long)sb.st_size <= c->mailMaxAttachment;
   if (attach)
      data = (unsigned char*)Util_slurp(p->bundle, (size_t)c->mailMaxAttachment + 1, &size);
   char note[4200];
   if (data)
      Util_format(note, sizeof(note), "\nThe bundle is attached (%zu bytes).\n", size);
   else if (present && !attach)
      Util_format(note, sizeof(note),
                  "\nThe bundle (%lld bytes) is larger than mail_max_attachment (%llu bytes) "
                  "and is not attached; it is on %s at %s\n",
                  (long long)sb.st_size, c->mailMaxAttachment, c->hostname, p->bundle);
   else
      Util_format(note, sizeof(note), "\nThe bundle %s on %s could not be read: %s\n", p->bundle, c->hostname,
                  strerror(errno));
   size_t bl = strlen(p->body);
   char* body = Util_xmalloc(bl + strlen(note) + 1);
   memcpy(body, p->body, bl);
   strcpy(body + bl, note);
   char boundary[96], messageId[400];
   Util_format(boundary, sizeof(boundary), "stacktop-%ld-%d-%u", (long)time(NULL), (int)getpid(), p->attempts);
   Util_format(messageId, sizeof(messageId), "<%s@%s>", boundary, c->hostname);
   MailMessage m = {
      .from = c->mailFrom,
      .to = (const char* const*)c->mailTo,
      .toCount = c->mailToCount,
      .subject = p->subject,
      .body = body,
      .attachmentName = data ? baseName(p->bundle) : NULL,
      .attachmentType = "application/gzip",
      .attachment = data,
      .attachmentLen = size,
      .date = Util_wallSeconds(),
      .boundary = boundary,
      .messageId = messageId,
   };
   char* msg = Mail_build(&m, len);
   free(body);
   free(data);
   return msg;
}

/* One delivery attempt; the queue file goes away only once the server took it. */
static void attempt(const WatchConfig* c, const char* path, PendingMail* p, double now) {
   size_t len;
   char* msg = buildMessage(c, p, &len);
   MailServer server = { .url = c->smtpUrl,
                         .user = c->smtpUser,
                         .password = c->smtpPassword,
                         .tlsRequired = c->smtpTlsRequired,
                         .timeoutS = 120 };
   char err[512];
   int rc = Mail_send(&server, c->mailFrom, (const char* const*)c->mailTo, c->mailToCount, msg, len, err, sizeof(err));
   free(msg);
   if (rc == 0) {
      if (unlink(path) != 0)
         WatchLog_write(WATCHLOG_ERROR, NULL,
                        "mail for %s sent but %s could not be removed: %s (it will be sent again)", p->bundle, path,
                        strerror(errno));
      else
         WatchLog_write(WATCHLOG_NOTICE, NULL, "mailed %s to %zu recipient%s", baseName(p->bundle), c->mailToCount,
                        c->mailToCount == 1 ? "" : "s");
      return;
   }
   p->attempts++;
   double delay = MailQueue_backoff(c->mailRetryS, p->attempts);
   p->next = now + delay;
   WatchLog_write(WATCHLOG_WARNING, NULL,
                  "mail for %s not sent (attempt %u): %s; retrying in %.0fs, the bundle is kept", baseName(p->bundle),
                  p->attempts, err, delay);
   char werr[512];
   if (writePending(path, p, werr, sizeof(werr)) < 0)
      WatchLog_write(WATCHLOG_ERROR, NULL, "%s", werr);
}

static bool isQueueFile(const char* name) {
   size_t len = strlen(name), sl = strlen(QUEUE_SUFFIX);
   return name[0] != '.' && len > sl && strcmp(name + len - sl, QUEUE_SUFFIX) == 0;
}

size_t MailQueue_process(const WatchConfig* config, double now, bool force) {
   DIR* d = opendir(config->bundleDir);
   if (!d)
      return 0;
   size_t pending = 0;
   struct dirent* e;
   while ((e = readdir(d))) {
      if (!isQueueFile(e->d_name))
         continue;
      char path[4096];
      Util_format(path, sizeof(path), "%s/%s", config->bundleDir, e->d_name);
      PendingMail p;
      if (readPending(path, &p) < 0) {
         WatchLog_write(WATCHLOG_ERROR, NULL, "pending mail %s is unreadable or malformed; move it away", path);
         continue;
      }
      if (config->mailToCount == 0) {
         pending++;
      } else if (force || p.next <= now) {
         attempt(config, path, &p, now);
         pending += access(path, F_OK) == 0;
      } else {
         pending++;
      }
      pendingFree(&p);
   }
   closedir(d);
   return pending;
}
