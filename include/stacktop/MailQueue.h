#ifndef STACKTOP_MAILQUEUE_H
#define STACKTOP_MAILQUEUE_H
/* Mails waiting for delivery, kept as small files next to their bundles
 * (BUNDLE.mail in bundle_dir) so nothing is lost when SMTP is down or
 * stacktop restarts. Failed sends are retried with a doubling delay
 * (mail_retry, capped at one hour). */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/WatchConfig.h"

/* Queues a mail about bundlePath (a .tar.gz in config->bundleDir). Returns 0,
 * or -1 with a message. */
int MailQueue_add(const char* bundlePath, const char* subject, const char* body, double now, char* err, size_t errSize);
/* Tries every mail that is due (every one when force), logging each outcome.
 * Returns how many are still pending. */
size_t MailQueue_process(const WatchConfig* config, double now, bool force);
/* Whether a mail about this bundle is still waiting (retention keeps it). */
bool MailQueue_isPending(const char* bundlePath);
/* Pure: the delay before retry number `attempts` (1 = first retry). */
double MailQueue_backoff(double firstS, unsigned attempts);

#endif
