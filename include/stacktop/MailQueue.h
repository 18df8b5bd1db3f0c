#ifndef STACKTOP_MAILQUEUE_H
#define STACKTOP_MAILQUEUE_H
/* Mails waiting for delivery, kept as signed records NAME.mail next to their
 * bundles NAME.tar.gz in bundle_dir (Record.h), so nothing is lost when SMTP
 * is down or stacktop restarts. The Message-ID, the Date and the recipients
 * are fixed when the mail is queued. Each attempt (MailQueue_attempt, run off
 * the sampling thread) goes to every recipient still waiting in one SMTP
 * transaction; the entry then keeps only those who did not get it. A
 * temporary failure is retried after mail_retry, doubling up to an hour,
 * counted from the end of the attempt. A recipient refused for good (5xx)
 * MAILQUEUE_PERMANENT_MAX times is given up: logged, and NAME.FAILED says who
 * did not get the mail and why. A .mail file stacktop did not write (its
 * signature does not match) is never sent: it is renamed NAME.mail.quarantined
 * and logged. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/BundleDir.h"
#include "stacktop/WatchConfig.h"

#define MAILQUEUE_SUFFIX ".mail"
#define MAILQUEUE_PERMANENT_MAX 3

/* Queues a mail: NAME.mail for stem NAME; bundle is true when NAME.tar.gz is
 * to be attached (or named when too large). Returns 0, or -1 with a message. */
int MailQueue_add(int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], const char* stem, bool bundle,
                  const char* host, const char* subject, const char* body, const char* const* to, size_t toCount,
                  char* err, size_t errSize);

typedef struct MailQueueScan_ {
   size_t pending;         /* entries waiting */
   char due[NAME_MAX + 1]; /* the entry to try now ("" if none is due) */
   double nextWall;        /* earliest next attempt of the others, 0 if none */
} MailQueueScan;

/* Looks at every NAME.mail: quarantines (and logs) the ones stacktop did not
 * write, picks the one due first. With all, every entry counts as due (the
 * mails left over from before a restart). */
void MailQueue_scan(int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES], double nowWall, bool all,
                    MailQueueScan* out);
/* One delivery attempt of dirFd/file, bounded by mail_timeout; logs the
 * outcome. Returns the number of recipients still waiting. */
size_t MailQueue_attempt(const WatchConfig* config, int dirFd, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                         const char* file);
/* A mail that is not queued (a notice that a bundle could not be written,
 * when bundle_dir itself may be full): one attempt, logged. Returns 0 when
 * everybody got it. */
int MailQueue_sendNow(const WatchConfig* config, const char* subject, const char* body, const char* const* to,
                      size_t toCount);
/* Whether a mail about bundle NAME is still waiting (retention keeps it). */
bool MailQueue_isPending(int dirFd, const char* stem);
/* Pure: the delay before retry number `attempts` (1 = first retry). */
double MailQueue_backoff(double firstS, unsigned attempts);

#endif
