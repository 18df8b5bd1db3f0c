#ifndef STACKTOP_SETTINGS_H
#define STACKTOP_SETTINGS_H
/* The monitor's remembered settings: `key=value` lines in
 * $XDG_CONFIG_HOME/stacktop/stacktoprc (default ~/.config/...), read at
 * start, overridden by command-line options, written on quit. A malformed
 * line is reported (file:line) and skipped; it never stops the monitor. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stacktop/Column.h"
#include "stacktop/Options.h"

typedef struct Settings_ {
   ColumnId sortColumn;
   bool invert; /* reverse the column's natural order */
   double delayS;
   char theme[64];
   bool visible[COL_COUNT]; /* shown columns, in Column table order */
} Settings;

void Settings_initDefault(Settings* this);
/* The rc file path (XDG_CONFIG_HOME, else $HOME/.config). */
void Settings_path(char* buf, size_t size);
/* Parses rc text over the current values. Bad lines are skipped; the first
 * problem goes to warn as "FILE:LINE: problem" (with a count of the others).
 * Returns the number of bad lines. */
int Settings_parse(Settings* this, const char* text, size_t len, const char* fileName, char* warn, size_t warnSize);
/* Reads the rc file at path (a missing file is not a problem). Returns the
 * number of problems reported in warn (an unreadable file counts as one). */
int Settings_load(Settings* this, const char* path, char* warn, size_t warnSize);
/* Command-line options win over the rc file. */
void Settings_applyOptions(Settings* this, const Options* options);
/* Writes the rc text. Returns 0, or -1 on a write error. */
int Settings_write(const Settings* this, FILE* out);
/* Writes the rc file atomically, creating its directory. Returns 0, or -1
 * with a one-line message. */
int Settings_save(const Settings* this, const char* path, char* err, size_t errSize);

#endif
