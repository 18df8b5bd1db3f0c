#ifndef STACKTOP_THEME_H
#define STACKTOP_THEME_H
/* Colour themes: btop-style files `theme[key]="#RRGGBB"` with one key per
 * colour role of the UI, and the mapping of those colours onto what the
 * terminal can show (truecolor, nearest of 256, nearest of 8, monochrome).
 * Parsing and colour arithmetic are pure (unit-tested); Theme_apply and
 * Theme_attr need an initialised curses screen. */
#include <stdbool.h>
#include <stddef.h>

/* The colour roles; their keys and meanings are listed in themes/default.theme. */
typedef enum ThemeRole_ {
   ROLE_MAIN_BG,
   ROLE_MAIN_FG,
   ROLE_TITLE,
   ROLE_HI_FG,
   ROLE_INACTIVE_FG,
   ROLE_METER_BAR,
   ROLE_METER_HIGH,
   ROLE_HEADER_FG,
   ROLE_HEADER_BG,
   ROLE_SORT_FG,
   ROLE_SELECTED_FG,
   ROLE_SELECTED_BG,
   ROLE_SIZE_K,
   ROLE_SIZE_M,
   ROLE_SIZE_G,
   ROLE_PROC_RUNNING,
   ROLE_PROC_DISK,
   ROLE_PROC_STOPPED,
   ROLE_PROC_ZOMBIE,
   ROLE_THREAD_FG,
   ROLE_GROWTH_FG,
   ROLE_GRAPH_FG,
   ROLE_SEARCH_FG,
   ROLE_STATUS_FG,
   ROLE_STATUS_BG,
   ROLE_KEY_FG,
   ROLE_ERROR_FG,
   ROLE_TAGGED_FG,
   ROLE_FOLLOW_BG,
   ROLE_COUNT,
} ThemeRole;

/* What is drawn: a foreground role on a background role (plus a fallback
 * attribute for monochrome terminals). */
typedef enum ThemeStyle_ {
   STYLE_TEXT,
   STYLE_TITLE,
   STYLE_VALUE,
   STYLE_INACTIVE,
   STYLE_METER_BAR,
   STYLE_METER_HIGH,
   STYLE_HEADER,
   STYLE_HEADER_SORT,
   STYLE_SELECTED,
   STYLE_SIZE_K,
   STYLE_SIZE_M,
   STYLE_SIZE_G,
   STYLE_PROC_RUNNING,
   STYLE_PROC_DISK,
   STYLE_PROC_STOPPED,
   STYLE_PROC_ZOMBIE,
   STYLE_THREAD,
   STYLE_GROWTH,
   STYLE_GRAPH,
   STYLE_SEARCH,
   STYLE_STATUS,
   STYLE_STATUS_KEY,
   STYLE_ERROR,
   STYLE_TAGGED, /* a tagged process row (Space, c) */
   STYLE_FOLLOW, /* the selected row while following (F) */
   STYLE_COUNT,
} ThemeStyle;

typedef enum ThemeColorMode_ {
   THEME_MONO,
   THEME_8,
   THEME_256,
   THEME_TRUECOLOR,
} ThemeColorMode;

#define THEME_DEFAULT_COLOR (-1) /* "" in a theme file: the terminal's own colour */

typedef struct Theme_ {
   char name[64];
   int rgb[ROLE_COUNT];    /* 0xRRGGBB or THEME_DEFAULT_COLOR */
   ThemeColorMode mode;    /* set by Theme_apply */
   int attrs[STYLE_COUNT]; /* curses attributes, set by Theme_apply */
} Theme;

/* The built-in default theme (the same colours as themes/default.theme). */
void Theme_initDefault(Theme* this);
/* Theme file key of a role ("main_bg"), and the role of a key (-1 if unknown). */
const char* Theme_roleKey(ThemeRole role);
int Theme_roleByKey(const char* key);
/* Parses theme text over the current colours (keys not given keep their
 * value). Returns 0, or -1 with "FILE:LINE: problem" in err. */
int Theme_parse(Theme* this, const char* text, size_t len, const char* fileName, char* err, size_t errSize);
/* Finds NAME.theme (or a path when name contains '/') along the search path
 * ($XDG_CONFIG_HOME/stacktop/themes, STACKTOP_THEMEDIR, STACKTOP_SRC_THEMEDIR),
 * then loads it over the default. Returns 0, or -1 with a one-line message. */
int Theme_load(Theme* this, const char* name, char* err, size_t errSize);
/* The colour mode for a terminal: noColor is $NO_COLOR (NULL when unset). */
ThemeColorMode Theme_chooseMode(bool hasColors, int colors, const char* noColor);
/* Nearest xterm-256 palette entry (16..255) and nearest of the 8 basic colours. */
int Theme_nearest256(int rgb);
int Theme_nearest8(int rgb);
/* Sets up colour pairs for the running curses screen and fills attrs. */
void Theme_apply(Theme* this);
int Theme_attr(const Theme* this, ThemeStyle style);

/* The style of a process or thread state letter (R, D, T/t, Z/X), or
 * otherwise for the rest: one map for the table and the detail view. */
ThemeStyle Theme_stateStyle(char state, ThemeStyle otherwise);

#endif
