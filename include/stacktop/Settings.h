#ifndef STACKTOP_SETTINGS_H
#define STACKTOP_SETTINGS_H
/* The monitor's remembered settings: `key=value` lines in
 * $XDG_CONFIG_HOME/stacktop/stacktoprc (default ~/.config/...), read at
 * start, overridden by command-line options, saved on quit. One table of
 * keys (name, parser, writer). A malformed line is reported (file:line) and
 * skipped; it never stops the monitor.
 *
 * What is saved: only the settings a key changed during the session
 * (Settings_markChanged), merged into the file as it is on disk at quit,
 * under a lock. So one-off command-line options (-d, -s, --theme) are never
 * written, and two monitors running at once do not overwrite each other's
 * unrelated settings. The file starts with a version line; lines this
 * version does not know (written by a newer one) are kept. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stacktop/Column.h"
#include "stacktop/Options.h"

#define SETTINGS_VERSION 1

typedef enum SettingId_ {
   SETTING_SORT_COLUMN,
   SETTING_SORT_INVERT,
   SETTING_DELAY,
   SETTING_THEME,
   SETTING_COLUMNS,
   SETTING_TREE,
   SETTING_SHOW_THREADS,
   SETTING_HIDE_KERNEL_THREADS,
   SETTING_COUNT,
} SettingId;

typedef struct Settings_ {
   ColumnId sortColumn;
   bool invert; /* reverse the column's natural order */
   double delayS;
   char theme[64];
   bool visible[COL_COUNT]; /* shown columns, in Column table order */
   bool tree;               /* t / F5 */
   bool showThreads;        /* H */
   bool hideKernelThreads;  /* K, on by default as in htop */
   unsigned changed;        /* 1 << SettingId for each setting a key changed this session */
   int version;             /* of the file read (0: none, or written before versions) */
   char* unknown;           /* lines of unknown keys (from a newer version), kept on save; owned */
} Settings;

void Settings_initDefault(Settings* this);
/* Frees what a parse kept (unknown lines); the values stay. */
void Settings_done(Settings* this);
/* The rc file path (XDG_CONFIG_HOME, else $HOME/.config). */
void Settings_path(char* buf, size_t size);
/* The key of a setting in the file ("sort_column"). */
const char* Settings_key(SettingId id);
/* Parses rc text over the current values. Bad lines are skipped; the first
 * problem goes to warn as "FILE:LINE: problem" (with a count of the others).
 * Unknown keys are kept (see unknown) and only reported when the file's
 * version is not newer than ours. Returns the number of bad lines. */
int Settings_parse(Settings* this, const char* text, size_t len, const char* fileName, char* warn, size_t warnSize);
/* Reads the rc file at path (a missing file is not a problem). Returns the
 * number of problems reported in warn (an unreadable file counts as one). */
int Settings_load(Settings* this, const char* path, char* warn, size_t warnSize);
/* Command-line options win over the rc file for this session only. */
void Settings_applyOptions(Settings* this, const Options* options);
/* A key changed this setting: it is saved on quit. */
void Settings_markChanged(Settings* this, SettingId id);
/* Writes the rc text (version line, every setting, kept unknown lines).
 * Returns 0, or -1 on a write error. */
int Settings_write(const Settings* this, FILE* out);
/* Saves the changed settings into the rc file: under an flock on its
 * directory, re-reads the file, replaces the changed settings, and writes it
 * back atomically (a fresh temporary file renamed over it), creating the
 * directory. Returns 0, or -1 with a one-line message. */
int Settings_save(const Settings* this, const char* path, char* err, size_t errSize);

#endif
