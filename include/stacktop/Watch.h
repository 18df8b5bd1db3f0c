#ifndef STACKTOP_WATCH_H
#define STACKTOP_WATCH_H
/* `stacktop watch -c FILE`: watch services named in a config file, fire rules,
 * write diagnostic bundles and mail them. */

/* argv[0] = "watch"; returns the exit status. */
int Watch_main(int argc, char** argv);
struct CliCommand_;
/* Its option table (for the man-page check). */
const struct CliCommand_* Watch_command(void);

#endif
