/* The rc file: parsing, defaults, option overrides and saving. */
#include "stacktop/Settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Util.h"

#define SETTINGS_MAX_BYTES (256 * 1024)
#define SETTINGS_MAX_DELAY 86400.0

static const ColumnId defaultColumns[] = {
   COL_PID, COL_USER, COL_STATE, COL_THREADS, COL_CPU,  COL_MEM,     COL_VIRT,
   COL_RES, COL_SHR,  COL_DATA,  COL_RGROW,   COL_TIME, COL_COMMAND,
};

void Settings_initDefault(Settings* this) {
   memset(this, 0, sizeof(*this));
   this->sortColumn = COL_RES;
   this->invert = false;
   this->delayS = 1.5;
   Util_format(this->theme, sizeof(this->theme), "default");
   for (size_t i = 0; i < sizeof(defaultColumns) / sizeof(defaultColumns[0]); i++)
      this->visible[defaultColumns[i]] = true;
}

void Settings_path(char* buf, size_t size) {
   const char* xdg = getenv("XDG_CONFIG_HOME");
   const char* home = getenv("HOME");
   if (xdg && xdg[0])
      Util_format(buf, size, "%s/stacktop/stacktoprc", xdg);
   else
      Util_format(buf, size, "%s/.config/stacktop/stacktoprc", home && home[0] ? home : ".");
}

/* ---- one parser per key; each returns NULL or the problem */

static const char* parseSort(Settings* this, const char* value) {
   int id = Column_byName(value);
   if (id < 0)
      return "unknown column";
   this->sortColumn = (ColumnId)id;
   return NULL;
}

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

static const char* parseInvert(Settings* this, const char* value) {
   return parseBool(value, &this->invert);
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

static const char* parseTheme(Settings* this, const char* value) {
   if (!value[0] || strlen(value) >= sizeof(this->theme))
      return "expected a theme name";
   Util_format(this->theme, sizeof(this->theme), "%s", value);
   return NULL;
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

typedef struct SettingsKey_ {
   const char* key;
   const char* (*parse)(Settings* this, const char* value);
} SettingsKey;

static const SettingsKey keys[] = {
   { .key = "sort_column", .parse = parseSort }, { .key = "sort_invert", .parse = parseInvert },
   { .key = "delay", .parse = parseDelay },      { .key = "theme", .parse = parseTheme },
   { .key = "columns", .parse = parseColumns },
};

static char* trim(char* s) {
   while (isspace((unsigned char)*s))
      s++;
   char* end = s + strlen(s);
   while (end > s && isspace((unsigned char)end[-1]))
      *--end = '\0';
   return s;
}

/* One line (NUL-terminated, modifiable). Returns NULL or the problem. */
static const char* parseLine(Settings* this, char* line, char* detail, size_t detailSize) {
   char* eq = strchr(line, '=');
   if (!eq)
      return "expected key=value";
   *eq = '\0';
   char* key = trim(line);
   char* value = trim(eq + 1);
   for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
      if (strcmp(key, keys[i].key) != 0)
         continue;
      const char* problem = keys[i].parse(this, value);
      if (problem)
         Util_format(detail, detailSize, " for %s: '%.60s'", key, value);
      return problem;
   }
   Util_format(detail, detailSize, " '%.60s' (known: sort_column, sort_invert, delay, theme, columns)", key);
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
      char detail[160] = "";
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

int Settings_write(const Settings* this, FILE* out) {
   fprintf(out, "# stacktop settings, rewritten when the monitor quits\n");
   fprintf(out, "sort_column=%s\n", Column_get(this->sortColumn)->name);
   fprintf(out, "sort_invert=%d\n", this->invert ? 1 : 0);
   fprintf(out, "delay=%g\n", this->delayS);
   fprintf(out, "theme=%s\n", this->theme);
   fputs("columns=", out);
   const char* sep = "";
   for (int i = 0; i < COL_COUNT; i++) {
      if (!this->visible[i])
         continue;
      fprintf(out, "%s%s", sep, Column_get((ColumnId)i)->name);
      sep = ",";
   }
   fputc('\n', out);
   return ferror(out) ? -1 : 0;
}

/* mkdir -p for the directory part of path. */
static int makeParentDirs(const char* path, char* err, size_t errSize) {
   char dir[1024];
   Util_format(dir, sizeof(dir), "%s", path);
   char* slash = strrchr(dir, '/');
   if (!slash || slash == dir)
      return 0;
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

int Settings_save(const Settings* this, const char* path, char* err, size_t errSize) {
   if (makeParentDirs(path, err, errSize) != 0)
      return -1;
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
   int rc = Settings_write(this, out);
   if (fclose(out) != 0)
      rc = -1;
   if (rc != 0 || rename(tmp, path) != 0) {
      Util_format(err, errSize, "cannot save settings to %s: %s", path, strerror(errno));
      unlink(tmp);
      return -1;
   }
   return 0;
}
