/* The rc file: one table of keys, parsing, defaults, option overrides, and
 * saving only what keys changed, merged into the file under a lock. */
#include "stacktop/Settings.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Util.h"

#define SETTINGS_MAX_BYTES (256 * 1024)
#define SETTINGS_MAX_DELAY 86400.0

void Settings_done(Settings* this) {
   free(this->unknown);
   this->unknown = NULL;
}

void Settings_path(char* buf, size_t size) {
   const char* xdg = getenv("XDG_CONFIG_HOME");
   const char* home = getenv("HOME");
   if (xdg && xdg[0])
      Util_format(buf, size, "%s/stacktop/stacktoprc", xdg);
   else
      Util_format(buf, size, "%s/.config/stacktop/stacktoprc", home && home[0] ? home : ".");
}

/* ---- one parser and one writer per key; parsers return NULL or the problem */

static const char* parseBool(const char* value, bool* out) {
   static const char* const yes[] = { "1", "true", "yes", "on" };
   static const char* const no[] = { "0", "false", "no", "off" };
   for (size_t i = 0; i < 4; i++) {
      if (strcasecmp(value, yes[i]) == 0) {
         *out = true;
         return NULL;
      }
      if (strcasecmp(value, no[i]) == 0) {
         *out = false;
         return NULL;
      }
   }
   return "expected 0 or 1";
}

static const char* parseSort(Settings* this, const char* value) {
   int id = Column_byName(value);
   if (id < 0)
      return "unknown column";
   this->sortColumn = (ColumnId)id;
   return NULL;
}

static void writeSort(const Settings* this, FILE* out) {
   fputs(Column_get(this->sortColumn)->name, out);
}

static const char* parseInvert(Settings* this, const char* value) {
   return parseBool(value, &this->invert);
}

static void writeInvert(const Settings* this, FILE* out) {
   fputc(this->invert ? '1' : '0', out);
}

static const char* parseDelay(Settings* this, const char* value) {
   char* end;
   errno = 0;
   double d = strtod(value, &end);
   if (errno || end == value || *end || !(d > 0.0) || d > SETTINGS_MAX_DELAY)
      return "expected seconds between 0 and 86400";
   this->delayS = d;
   return NULL;
}

static void writeDelay(const Settings* this, FILE* out) {
   fprintf(out, "%g", this->delayS);
}

static const char* parseTheme(Settings* this, const char* value) {
   if (!value[0] || strlen(value) >= sizeof(this->theme))
      return "expected a theme name";
   Util_format(this->theme, sizeof(this->theme), "%s", value);
   return NULL;
}

static void writeTheme(const Settings* this, FILE* out) {
   fputs(this->theme, out);
}

static const char* parseColumns(Settings* this, const char* value) {
   bool visible[COL_COUNT] = { false };
   char buf[512];
   if (strlen(value) >= sizeof(buf))
      return "column list too long";
   Util_format(buf, sizeof(buf), "%s", value);
   size_t shown = 0;
   char* save = NULL;
   for (char* name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
      while (isspace((unsigned char)*name))
         name++;
      char* end = name + strlen(name);
      while (end > name && isspace((unsigned char)end[-1]))
         *--end = '\0';
      int id = Column_byName(name);
      if (id < 0)
         return "unknown column in list";
      visible[id] = true;
      shown++;
   }
   if (shown == 0)
      return "expected at least one column";
   memcpy(this->visible, visible, sizeof(visible));
   return NULL;
}

static void writeColumns(const Settings* this, FILE* out) {
   const char* sep = "";
   for (int i = 0; i < COL_COUNT; i++) {
      if (!this->visible[i])
         continue;
      fprintf(out, "%s%s", sep, Column_get((ColumnId)i)->name);
      sep = ",";
   }
}

static const char* parseTree(Settings* this, const char* value) {
   return parseBool(value, &this->tree);
}

static void writeTree(const Settings* this, FILE* out) {
   fputc(this->tree ? '1' : '0', out);
}

static const char* parseShowThreads(Settings* this, const char* value) {
   return parseBool(value, &this->showThreads);
}

static void writeShowThreads(const Settings* this, FILE* out) {
   fputc(this->showThreads ? '1' : '0', out);
}

static const char* parseHideKernel(Settings* this, const char* value) {
   return parseBool(value, &this->hideKernelThreads);
}

static void writeHideKernel(const Settings* this, FILE* out) {
   fputc(this->hideKernelThreads ? '1' : '0', out);
}

typedef struct SettingsKey_ {
   const char* key;
   const char* (*parse)(Settings* this, const char* value);
   void (*write)(const Settings* this, FILE* out);
   /* Copies this setting from one Settings to another (for the merge). */
   size_t offset, size;
   const char* def; /* the default, read by parse (NULL: from the column table) */
} SettingsKey;

#define FIELD(f) .offset = offsetof(Settings, f), .size = sizeof(((Settings*)0)->f)

static const SettingsKey keys[SETTING_COUNT] = {
   [SETTING_SORT_COLUMN] = { .key = "sort_column",
                             .parse = parseSort,
                             .write = writeSort,
                             FIELD(sortColumn),
                             .def = "RES" },
   [SETTING_SORT_INVERT] = { .key = "sort_invert",
                             .parse = parseInvert,
                             .write = writeInvert,
                             FIELD(invert),
                             .def = "0" },
   [SETTING_DELAY] = { .key = "delay", .parse = parseDelay, .write = writeDelay, FIELD(delayS), .def = "1.5" },
   [SETTING_THEME] = { .key = "theme", .parse = parseTheme, .write = writeTheme, FIELD(theme), .def = "default" },
   [SETTING_COLUMNS] = { .key = "columns", .parse = parseColumns, .write = writeColumns, FIELD(visible) },
   [SETTING_TREE] = { .key = "tree", .parse = parseTree, .write = writeTree, FIELD(tree), .def = "0" },
   [SETTING_SHOW_THREADS] = { .key = "show_threads",
                              .parse = parseShowThreads,
                              .write = writeShowThreads,
                              FIELD(showThreads),
                              .def = "0" },
   [SETTING_HIDE_KERNEL_THREADS] = { .key = "hide_kernel_threads",
                                     .parse = parseHideKernel,
                                     .write = writeHideKernel,
                                     FIELD(hideKernelThreads),
                                     .def = "1" },
};

void Settings_initDefault(Settings* this) {
   memset(this, 0, sizeof(*this));
   for (int i = 0; i < COL_COUNT; i++)
      this->visible[i] = Column_get((ColumnId)i)->shownByDefault;
   for (int i = 0; i < SETTING_COUNT; i++) {
      if (!keys[i].def)
         continue;
      const char* problem = keys[i].parse(this, keys[i].def);
      assert(!problem && "a row's default passes its own parser");
      (void)problem;
   }
}

const char* Settings_key(SettingId id) {
   return (int)id >= 0 && id < SETTING_COUNT ? keys[id].key : "";
}

static char* trim(char* s) {
   while (isspace((unsigned char)*s))
      s++;
   char* end = s + strlen(s);
   while (end > s && isspace((unsigned char)end[-1]))
      *--end = '\0';
   return s;
}

static void knownKeys(char* buf, size_t size) {
   size_t used = 0;
   buf[0] = '\0';
   for (int i = 0; i < SETTING_COUNT && used < size; i++)
      used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", keys[i].key);
}

/* Keeps an unknown key's line for the next save. */
static void keepUnknown(Settings* this, const char* key, const char* value) {
   size_t have = this->unknown ? strlen(this->unknown) : 0;
   size_t add = strlen(key) + strlen(value) + 2;
   if (have + add > SETTINGS_MAX_BYTES)
      return;
   this->unknown = Util_xrealloc(this->unknown, have + add + 1);
   Util_format(this->unknown + have, add + 1, "%s=%s\n", key, value);
}

static const char* parseVersion(Settings* this, const char* value) {
   char* end;
   long v = strtol(value, &end, 10);
   if (end == value || *end || v < 0 || v > 1000000)
      return "expected a version number";
   this->version = (int)v;
   return NULL;
}

/* One line (NUL-terminated, modifiable). Returns NULL or the problem. */
static const char* parseLine(Settings* this, char* line, char* detail, size_t detailSize) {
   char* eq = strchr(line, '=');
   if (!eq)
      return "expected key=value";
   *eq = '\0';
   char* key = trim(line);
   char* value = trim(eq + 1);
   if (strcmp(key, "version") == 0)
      return parseVersion(this, value);
   for (size_t i = 0; i < SETTING_COUNT; i++) {
      if (strcmp(key, keys[i].key) != 0)
         continue;
      const char* problem = keys[i].parse(this, value);
      if (problem)
         Util_format(detail, detailSize, " for %s: '%.60s'", key, value);
      return problem;
   }
   keepUnknown(this, key, value);
   /* A newer stacktop's keys are expected, not a mistake. */
   if (this->version > SETTINGS_VERSION)
      return NULL;
   char known[256];
   knownKeys(known, sizeof(known));
   Util_format(detail, detailSize, " '%.60s' (known: %s)", key, known);
   return "unknown key";
}

int Settings_parse(Settings* this, const char* text, size_t len, const char* fileName, char* warn, size_t warnSize) {
   int bad = 0;
   char first[512] = "";
   const char* p = text;
   const char* end = text + len;
   for (int lineNo = 1; p < end; lineNo++) {
      const char* nl = memchr(p, '\n', (size_t)(end - p));
      size_t n = (size_t)((nl ? nl : end) - p);
      char line[1024];
      const char* problem = NULL;
      char detail[300] = "";
      if (n >= sizeof(line)) {
         problem = "line too long";
      } else if (memchr(p, '\0', n)) {
         problem = "NUL byte in line";
      } else {
         memcpy(line, p, n);
         line[n] = '\0';
         char* s = trim(line);
         if (s[0] && s[0] != '#')
            problem = parseLine(this, s, detail, sizeof(detail));
      }
      if (problem && bad++ == 0)
         Util_format(first, sizeof(first), "%s:%d: %s%s", fileName, lineNo, problem, detail);
      p = nl ? nl + 1 : end;
   }
   if (bad == 1)
      Util_format(warn, warnSize, "%s; line ignored", first);
   else if (bad > 1)
      Util_format(warn, warnSize, "%s; it and %d more bad lines ignored", first, bad - 1);
   return bad;
}

int Settings_load(Settings* this, const char* path, char* warn, size_t warnSize) {
   size_t len = 0;
   char* text = Util_slurp(path, SETTINGS_MAX_BYTES, &len);
   if (!text) {
      if (errno == ENOENT)
         return 0;
      Util_format(warn, warnSize, "cannot read settings file %s: %s; using defaults", path, strerror(errno));
      return 1;
   }
   int bad = Settings_parse(this, text, len, path, warn, warnSize);
   free(text);
   return bad;
}

void Settings_applyOptions(Settings* this, const Options* options) {
   if (options->delaySet)
      this->delayS = options->delayS;
   if (options->sortSet) {
      this->sortColumn = options->sortColumn;
      this->invert = false;
   }
   if (options->theme[0])
      Util_format(this->theme, sizeof(this->theme), "%s", options->theme);
}

void Settings_markChanged(Settings* this, SettingId id) {
   if ((int)id >= 0 && id < SETTING_COUNT)
      this->changed |= 1u << id;
}

int Settings_write(const Settings* this, FILE* out) {
   fprintf(out, "# stacktop settings: keys that change a setting in the monitor save it on quit\n");
   fprintf(out, "version=%d\n", SETTINGS_VERSION);
   for (int i = 0; i < SETTING_COUNT; i++) {
      fprintf(out, "%s=", keys[i].key);
      keys[i].write(this, out);
      fputc('\n', out);
   }
   if (this->unknown)
      fputs(this->unknown, out);
   return ferror(out) ? -1 : 0;
}

/* mkdir -p for the directory part of path; dir gets that directory. */
static int makeParentDirs(const char* path, char* dir, size_t dirSize, char* err, size_t errSize) {
   Util_format(dir, dirSize, "%s", path);
   char* slash = strrchr(dir, '/');
   if (!slash) {
      Util_format(dir, dirSize, ".");
      return 0;
   }
   if (slash == dir) {
      dir[1] = '\0';
      return 0;
   }
   *slash = '\0';
   for (char* p = dir + 1; *p; p++) {
      if (*p != '/')
         continue;
      *p = '\0';
      if (mkdir(dir, 0755) != 0 && errno != EEXIST)
         goto fail;
      *p = '/';
   }
   if (mkdir(dir, 0755) != 0 && errno != EEXIST)
      goto fail;
   return 0;
fail:
   Util_format(err, errSize, "cannot create directory %s: %s", dir, strerror(errno));
   return -1;
}

/* The file as it is now, with this session's changed settings on top. */
static void mergeOntoDisk(const Settings* this, const char* path, Settings* merged) {
   Settings_initDefault(merged);
   char warn[512];
   Settings_load(merged, path, warn, sizeof(warn)); /* its problems were reported at start */
   for (int i = 0; i < SETTING_COUNT; i++) {
      if (this->changed & (1u << i))
         memcpy((char*)merged + keys[i].offset, (const char*)this + keys[i].offset, keys[i].size);
   }
}

static int writeAtomically(const Settings* s, const char* path, char* err, size_t errSize) {
   /* A fresh unpredictable name opened O_EXCL: a symlink planted at a fixed
    * temporary name would otherwise make root overwrite its target. */
   char tmp[1100];
   Util_format(tmp, sizeof(tmp), "%s.XXXXXX", path);
   int fd = mkstemp(tmp);
   FILE* out = fd >= 0 ? fdopen(fd, "w") : NULL;
   if (!out) {
      Util_format(err, errSize, "cannot write settings file %s: %s", tmp, strerror(errno));
      if (fd >= 0) {
         close(fd);
         unlink(tmp);
      }
      return -1;
   }
   int rc = Settings_write(s, out);
   if (fclose(out) != 0)
      rc = -1;
   if (rc != 0 || rename(tmp, path) != 0) {
      Util_format(err, errSize, "cannot save settings to %s: %s", path, strerror(errno));
      unlink(tmp);
      return -1;
   }
   return 0;
}

int Settings_save(const Settings* this, const char* path, char* err, size_t errSize) {
   char dir[1024];
   if (makeParentDirs(path, dir, sizeof(dir), err, errSize) != 0)
      return -1;
   /* The lock is on the directory itself: no lock file to plant or leave
    * behind. Another monitor saving at the same moment waits its turn, then
    * merges into what this one wrote. */
   int dirFd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   if (dirFd < 0 || flock(dirFd, LOCK_EX) != 0) {
      Util_format(err, errSize, "cannot lock settings directory %s: %s", dir, strerror(errno));
      if (dirFd >= 0)
         close(dirFd);
      return -1;
   }
   Settings merged;
   mergeOntoDisk(this, path, &merged);
   int rc = writeAtomically(&merged, path, err, errSize);
   Settings_done(&merged);
   close(dirFd); /* releases the lock */
   return rc;
}
