/* Theme files and the mapping of theme colours onto the terminal. */
#include "stacktop/Theme.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Util.h"

#define THEME_MAX_BYTES (1024 * 1024)

typedef struct RoleInfo_ {
   const char* key;
   int defaultRgb;
} RoleInfo;

/* Keys and the built-in default colours; themes/default.theme repeats them
 * with a description of every role (a unit test keeps the two in sync). */
static const RoleInfo roles[ROLE_COUNT] = {
   [ROLE_MAIN_BG] = { .key = "main_bg", .defaultRgb = THEME_DEFAULT_COLOR },
   [ROLE_MAIN_FG] = { .key = "main_fg", .defaultRgb = 0xd0d0d0 },
   [ROLE_TITLE] = { .key = "title", .defaultRgb = 0x5fafff },
   [ROLE_HI_FG] = { .key = "hi_fg", .defaultRgb = 0xffffff },
   [ROLE_INACTIVE_FG] = { .key = "inactive_fg", .defaultRgb = 0x808080 },
   [ROLE_METER_BAR] = { .key = "meter_bar", .defaultRgb = 0x5fd75f },
   [ROLE_METER_HIGH] = { .key = "meter_high", .defaultRgb = 0xff5f5f },
   [ROLE_HEADER_FG] = { .key = "header_fg", .defaultRgb = 0x000000 },
   [ROLE_HEADER_BG] = { .key = "header_bg", .defaultRgb = 0x5fd75f },
   [ROLE_SORT_FG] = { .key = "sort_fg", .defaultRgb = 0x00005f },
   [ROLE_SELECTED_FG] = { .key = "selected_fg", .defaultRgb = 0x000000 },
   [ROLE_SELECTED_BG] = { .key = "selected_bg", .defaultRgb = 0x5fafff },
   [ROLE_SIZE_K] = { .key = "size_k", .defaultRgb = 0xa8a8a8 },
   [ROLE_SIZE_M] = { .key = "size_m", .defaultRgb = 0x5fd7ff },
   [ROLE_SIZE_G] = { .key = "size_g", .defaultRgb = 0xffaf00 },
   [ROLE_PROC_RUNNING] = { .key = "proc_running", .defaultRgb = 0x5fd75f },
   [ROLE_PROC_DISK] = { .key = "proc_disk", .defaultRgb = 0xffaf00 },
   [ROLE_PROC_STOPPED] = { .key = "proc_stopped", .defaultRgb = 0xff5fff },
   [ROLE_PROC_ZOMBIE] = { .key = "proc_zombie", .defaultRgb = 0xff5f5f },
   [ROLE_THREAD_FG] = { .key = "thread_fg", .defaultRgb = 0x5fafd7 },
   [ROLE_GROWTH_FG] = { .key = "growth_fg", .defaultRgb = 0xffaf00 },
   [ROLE_GRAPH_FG] = { .key = "graph_fg", .defaultRgb = 0x87d787 },
   [ROLE_SEARCH_FG] = { .key = "search_fg", .defaultRgb = 0xffff5f },
   [ROLE_STATUS_FG] = { .key = "status_fg", .defaultRgb = 0xd0d0d0 },
   [ROLE_STATUS_BG] = { .key = "status_bg", .defaultRgb = 0x303030 },
   [ROLE_KEY_FG] = { .key = "key_fg", .defaultRgb = 0x5fd7ff },
   [ROLE_ERROR_FG] = { .key = "error_fg", .defaultRgb = 0xff5f5f },
   [ROLE_TAGGED_FG] = { .key = "tagged_fg", .defaultRgb = 0xffff5f },
   [ROLE_FOLLOW_BG] = { .key = "follow_bg", .defaultRgb = 0xffaf5f },
};

typedef struct StyleInfo_ {
   ThemeRole fg, bg;
   int colorAttr; /* added in colour modes */
   int monoAttr;  /* the whole look on a monochrome terminal */
} StyleInfo;

static const StyleInfo styles[STYLE_COUNT] = {
   [STYLE_TEXT] = { ROLE_MAIN_FG, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_TITLE] = { ROLE_TITLE, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_VALUE] = { ROLE_HI_FG, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_INACTIVE] = { ROLE_INACTIVE_FG, ROLE_MAIN_BG, A_NORMAL, A_DIM },
   [STYLE_METER_BAR] = { ROLE_METER_BAR, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_METER_HIGH] = { ROLE_METER_HIGH, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_HEADER] = { ROLE_HEADER_FG, ROLE_HEADER_BG, A_NORMAL, A_REVERSE },
   [STYLE_HEADER_SORT] = { ROLE_SORT_FG, ROLE_HEADER_BG, A_BOLD, A_REVERSE | A_BOLD | A_UNDERLINE },
   [STYLE_SELECTED] = { ROLE_SELECTED_FG, ROLE_SELECTED_BG, A_NORMAL, A_REVERSE | A_BOLD },
   [STYLE_SIZE_K] = { ROLE_SIZE_K, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_SIZE_M] = { ROLE_SIZE_M, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_SIZE_G] = { ROLE_SIZE_G, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_PROC_RUNNING] = { ROLE_PROC_RUNNING, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_PROC_DISK] = { ROLE_PROC_DISK, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_PROC_STOPPED] = { ROLE_PROC_STOPPED, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_PROC_ZOMBIE] = { ROLE_PROC_ZOMBIE, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_THREAD] = { ROLE_THREAD_FG, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_GROWTH] = { ROLE_GROWTH_FG, ROLE_MAIN_BG, A_NORMAL, A_BOLD },
   [STYLE_GRAPH] = { ROLE_GRAPH_FG, ROLE_MAIN_BG, A_NORMAL, A_NORMAL },
   [STYLE_SEARCH] = { ROLE_SEARCH_FG, ROLE_MAIN_BG, A_BOLD, A_BOLD | A_UNDERLINE },
   [STYLE_STATUS] = { ROLE_STATUS_FG, ROLE_STATUS_BG, A_NORMAL, A_REVERSE },
   [STYLE_STATUS_KEY] = { ROLE_KEY_FG, ROLE_STATUS_BG, A_BOLD, A_BOLD },
   [STYLE_ERROR] = { ROLE_ERROR_FG, ROLE_MAIN_BG, A_BOLD, A_BOLD },
   [STYLE_TAGGED] = { ROLE_TAGGED_FG, ROLE_MAIN_BG, A_BOLD, A_BOLD | A_UNDERLINE },
   [STYLE_FOLLOW] = { ROLE_SELECTED_FG, ROLE_FOLLOW_BG, A_NORMAL, A_REVERSE | A_UNDERLINE },
};

void Theme_initDefault(Theme* this) {
   memset(this, 0, sizeof(*this));
   Util_format(this->name, sizeof(this->name), "default");
   for (int i = 0; i < ROLE_COUNT; i++)
      this->rgb[i] = roles[i].defaultRgb;
   for (int i = 0; i < STYLE_COUNT; i++)
      this->attrs[i] = styles[i].monoAttr;
}

const char* Theme_roleKey(ThemeRole role) {
   return (role >= 0 && role < ROLE_COUNT) ? roles[role].key : NULL;
}

int Theme_roleByKey(const char* key) {
   for (int i = 0; i < ROLE_COUNT; i++) {
      if (strcmp(roles[i].key, key) == 0)
         return i;
   }
   return -1;
}

/* ---- parsing */

static const char* skipSpace(const char* p, const char* end) {
   while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
      p++;
   return p;
}

/* "#RRGGBB" or "" (terminal default). Returns 0 or -1. */
static int parseColor(const char* s, size_t n, int* out) {
   if (n == 0) {
      *out = THEME_DEFAULT_COLOR;
      return 0;
   }
   if (n != 7 || s[0] != '#')
      return -1;
   int v = 0;
   for (size_t i = 1; i < 7; i++) {
      if (!isxdigit((unsigned char)s[i]))
         return -1;
      v = v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10);
   }
   *out = v;
   return 0;
}

/* One non-blank, non-comment line [p, end). Returns NULL or a static problem
 * description; problem details go into detail. */
static const char* parseLine(Theme* this, const char* p, const char* end, char* detail, size_t detailSize) {
   static const char expected[] = "expected theme[key]=\"#RRGGBB\"";
   detail[0] = '\0';
   if ((size_t)(end - p) < 6 || strncmp(p, "theme[", 6) != 0)
      return expected;
   const char* key = p + 6;
   const char* close = memchr(key, ']', (size_t)(end - key));
   if (!close || close == key || close - key >= 64)
      return expected;
   char keyBuf[64];
   memcpy(keyBuf, key, (size_t)(close - key));
   keyBuf[close - key] = '\0';
   int role = Theme_roleByKey(keyBuf);
   if (role < 0) {
      Util_format(detail, detailSize, "'%s'", keyBuf);
      return "unknown key";
   }
   p = skipSpace(close + 1, end);
   if (p == end || *p != '=')
      return expected;
   p = skipSpace(p + 1, end);
   const char* value = p;
   const char* valueEnd;
   if (p < end && *p == '"') {
      value = p + 1;
      valueEnd = memchr(value, '"', (size_t)(end - value));
      if (!valueEnd)
         return "unterminated string, expected \"#RRGGBB\"";
      p = valueEnd + 1;
   } else {
      while (p < end && !isspace((unsigned char)*p))
         p++;
      valueEnd = p;
   }
   p = skipSpace(p, end);
   if (p < end && *p != '#')
      return "unexpected text after the value";
   int rgb;
   if (parseColor(value, (size_t)(valueEnd - value), &rgb) != 0) {
      Util_format(detail, detailSize, "'%.*s' for %s (expected \"#RRGGBB\" or \"\")",
                  (int)((valueEnd - value) > 32 ? 32 : (valueEnd - value)), value, keyBuf);
      return "bad colour";
   }
   this->rgb[role] = rgb;
   return NULL;
}

int Theme_parse(Theme* this, const char* text, size_t len, const char* fileName, char* err, size_t errSize) {
   const char* p = text;
   const char* end = text + len;
   for (int lineNo = 1; p < end; lineNo++) {
      const char* nl = memchr(p, '\n', (size_t)(end - p));
      const char* lineEnd = nl ? nl : end;
      const char* s = skipSpace(p, lineEnd);
      if (s < lineEnd && *s != '#') {
         char detail[128] = "";
         const char* problem = memchr(s, '\0', (size_t)(lineEnd - s))
                                   ? "NUL byte in line"
                                   : parseLine(this, s, lineEnd, detail, sizeof(detail));
         if (problem) {
            Util_format(err, errSize, "%s:%d: %s%s%s", fileName, lineNo, problem, detail[0] ? " " : "", detail);
            return -1;
         }
      }
      p = nl ? nl + 1 : end;
   }
   return 0;
}

/* ---- loading */

static void userThemeDir(char* buf, size_t size) {
   const char* xdg = getenv("XDG_CONFIG_HOME");
   const char* home = getenv("HOME");
   if (xdg && xdg[0])
      Util_format(buf, size, "%s/stacktop/themes", xdg);
   else
      Util_format(buf, size, "%s/.config/stacktop/themes", home && home[0] ? home : ".");
}

static int validName(const char* name) {
   if (!name[0] || strlen(name) > 48)
      return 0;
   for (const char* c = name; *c; c++) {
      if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
         return 0;
   }
   return name[0] != '.';
}

static int loadFile(Theme* this, const char* path, char* err, size_t errSize) {
   size_t len = 0;
   char* text = Util_slurp(path, THEME_MAX_BYTES, &len);
   if (!text) {
      Util_format(err, errSize, "cannot read theme file %s: %s", path, strerror(errno));
      return -1;
   }
   int rc = Theme_parse(this, text, len, path, err, errSize);
   free(text);
   return rc;
}

int Theme_load(Theme* this, const char* name, char* err, size_t errSize) {
   Theme_initDefault(this);
   if (strchr(name, '/')) {
      Util_format(this->name, sizeof(this->name), "%s", name);
      return loadFile(this, name, err, errSize);
   }
   if (!validName(name)) {
      Util_format(err, errSize, "bad theme name '%s': use letters, digits, '-', '_' (a file NAME.theme)", name);
      return -1;
   }
   char dirs[3][512];
   userThemeDir(dirs[0], sizeof(dirs[0]));
   Util_format(dirs[1], sizeof(dirs[1]), "%s", STACKTOP_THEMEDIR);
   Util_format(dirs[2], sizeof(dirs[2]), "%s", STACKTOP_SRC_THEMEDIR);
   for (int i = 0; i < 3; i++) {
      char path[600];
      Util_format(path, sizeof(path), "%s/%s.theme", dirs[i], name);
      if (access(path, F_OK) != 0)
         continue;
      Util_format(this->name, sizeof(this->name), "%s", name);
      return loadFile(this, path, err, errSize);
   }
   if (strcmp(name, "default") == 0)
      return 0; /* the built-in copy of the default theme */
   Util_format(err, errSize, "theme '%s' not found: no %s.theme in %s, %s or %s", name, name, dirs[0], dirs[1],
               dirs[2]);
   return -1;
}

/* ---- colour arithmetic */

static int channel(int rgb, int shift) {
   return (rgb >> shift) & 0xff;
}

static long distance2(int r1, int g1, int b1, int r2, int g2, int b2) {
   long dr = r1 - r2, dg = g1 - g2, db = b1 - b2;
   return dr * dr + dg * dg + db * db;
}

static const int cubeLevels[6] = { 0, 95, 135, 175, 215, 255 };

static int nearestCubeLevel(int v) {
   int best = 0;
   for (int i = 1; i < 6; i++) {
      if (abs(cubeLevels[i] - v) < abs(cubeLevels[best] - v))
         best = i;
   }
   return best;
}

int Theme_nearest256(int rgb) {
   int r = channel(rgb, 16), g = channel(rgb, 8), b = channel(rgb, 0);
   int ri = nearestCubeLevel(r), gi = nearestCubeLevel(g), bi = nearestCubeLevel(b);
   int cube = 16 + 36 * ri + 6 * gi + bi;
   long cubeDist = distance2(r, g, b, cubeLevels[ri], cubeLevels[gi], cubeLevels[bi]);
   /* Grey ramp 232..255: 8, 18, ..., 238. */
   int grey = (r + g + b) / 3;
   int gi2 = grey < 8 ? 0 : (grey - 8 + 5) / 10;
   if (gi2 > 23)
      gi2 = 23;
   int level = 8 + 10 * gi2;
   long greyDist = distance2(r, g, b, level, level, level);
   return greyDist < cubeDist ? 232 + gi2 : cube;
}

/* The 8 ANSI colours as xterm shows them by default. */
static const int basic8[8] = { 0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5 };

/* A colour this close to grey is drawn black or white on 8 colours. */
#define GREY_SPREAD 48

int Theme_nearest8(int rgb) {
   int r = channel(rgb, 16), g = channel(rgb, 8), b = channel(rgb, 0);
   int hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
   int lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
   /* By distance a mid grey is nearest to the dark yellow (#cdcd00), which
    * made every dimmed zero look like a warning: greys stay grey. */
   if (hi - lo < GREY_SPREAD)
      return (r + g + b) / 3 >= 0x60 ? 7 : 0;
   int best = 0;
   long bestDist = -1;
   for (int i = 0; i < 8; i++) {
      long d = distance2(channel(rgb, 16), channel(rgb, 8), channel(rgb, 0), channel(basic8[i], 16),
                         channel(basic8[i], 8), channel(basic8[i], 0));
      if (bestDist < 0 || d < bestDist) {
         best = i;
         bestDist = d;
      }
   }
   return best;
}

ThemeColorMode Theme_chooseMode(bool hasColors, int colors, const char* noColor) {
   if ((noColor && noColor[0]) || !hasColors || colors < 8)
      return THEME_MONO;
   if (colors >= 0x1000000)
      return THEME_TRUECOLOR;
   if (colors >= 256)
      return THEME_256;
   return THEME_8;
}

/* ---- curses */

static int terminalColor(ThemeColorMode mode, int rgb, bool defaultOk, int fallback) {
   if (rgb == THEME_DEFAULT_COLOR)
      return defaultOk ? -1 : fallback;
   switch (mode) {
   case THEME_TRUECOLOR: return rgb;
   case THEME_256: return Theme_nearest256(rgb);
   default: return Theme_nearest8(rgb);
   }
}

void Theme_apply(Theme* this) {
   for (int i = 0; i < STYLE_COUNT; i++)
      this->attrs[i] = styles[i].monoAttr;
   const char* noColor = getenv("NO_COLOR");
   if (noColor && noColor[0]) {
      this->mode = THEME_MONO;
      return;
   }
   /* COLORS is only known once start_color() has run. */
   bool hasColors = has_colors() && start_color() == OK;
   this->mode = Theme_chooseMode(hasColors, hasColors ? COLORS : 0, noColor);
   if (this->mode == THEME_MONO)
      return;
   bool defaultOk = use_default_colors() == OK;
   for (int i = 0; i < STYLE_COUNT; i++) {
      int fg = terminalColor(this->mode, this->rgb[styles[i].fg], defaultOk, COLOR_WHITE);
      int bg = terminalColor(this->mode, this->rgb[styles[i].bg], defaultOk, COLOR_BLACK);
      /* 8 colours are coarse: a grey on black can collapse into black on black. */
      if (this->mode == THEME_8 && fg == (bg < 0 ? COLOR_BLACK : bg))
         fg = (fg == COLOR_BLACK) ? COLOR_WHITE : COLOR_BLACK;
      if (init_extended_pair(i + 1, fg, bg) == ERR) {
         this->attrs[i] = styles[i].monoAttr;
         continue;
      }
      this->attrs[i] = (int)COLOR_PAIR(i + 1) | styles[i].colorAttr;
   }
   /* The whole screen in the theme's background, not just the cells with
    * text: a light theme on a dark terminal otherwise paints stripes. */
   bkgdset((chtype)' ' | (chtype)this->attrs[STYLE_TEXT]);
}

int Theme_attr(const Theme* this, ThemeStyle style) {
   return this->attrs[style];
}

ThemeStyle Theme_stateStyle(char state, ThemeStyle otherwise) {
   switch (state) {
   case 'R': return STYLE_PROC_RUNNING;
   case 'D': return STYLE_PROC_DISK;
   case 'T':
   case 't': return STYLE_PROC_STOPPED;
   case 'Z':
   case 'X': return STYLE_PROC_ZOMBIE;
   default: return otherwise;
   }
}
