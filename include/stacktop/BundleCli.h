#ifndef STACKTOP_BUNDLECLI_H
#define STACKTOP_BUNDLECLI_H
/* `stacktop bundle -c FILE --service NAME [--reason TEXT]`: one bundle of a
 * service now, for any hook runner (cron, Debian's `webhook`, an
 * orchestrator). It is the watcher's bundle, written the watcher's way
 * (Dispatch_writeBundle), and it asks the watcher's shared state in
 * bundle_dir (WatchState, under its lock) first: the service's cooldown,
 * the hourly cap and a pending bundle refuse it exactly as they refuse an
 * alert, so a running watcher and this command never both bundle. Its mail
 * is queued in bundle_dir: a running watcher sends it; with none running it
 * is sent here (one attempt; a failed one stays queued for the next watcher). */

struct CliCommand_;

/* argv[0] = "bundle"; returns the exit status. */
int BundleCli_main(int argc, char** argv);
/* Its option table (for the man-page check). */
const struct CliCommand_* BundleCli_command(void);

#endif
