/* The key table and its lookups. */
#include "stacktop/KeyMap.h"

#include <curses.h>
#include <string.h>

#include "stacktop/Util.h"

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)

/* Bindings of one action are kept next to each other: the help merges them. */
static const KeyBinding bindings[] = {
   { KEYSCOPE_MOVE, KEY_UP, "Up", ACTION_UP, "move up one line" },
   { KEYSCOPE_MOVE, 'k', "k", ACTION_UP, "move up one line" },
   { KEYSCOPE_MOVE, KEY_DOWN, "Down", ACTION_DOWN, "move down one line" },
   { KEYSCOPE_MOVE, 'j', "j", ACTION_DOWN, "move down one line" },
   { KEYSCOPE_MOVE, KEY_PPAGE, "PgUp", ACTION_PAGE_UP, "move up one page" },
   { KEYSCOPE_MOVE, KEY_NPAGE, "PgDn", ACTION_PAGE_DOWN, "move down one page" },
   { KEYSCOPE_MOVE, ' ', "Space", ACTION_PAGE_DOWN, "move down one page" },
   { KEYSCOPE_MOVE, KEY_HOME, "Home", ACTION_HOME, "go to the first line" },
   { KEYSCOPE_MOVE, KEY_END, "End", ACTION_END, "go to the last line" },

   { KEYSCOPE_TABLE, 'M', "M", ACTION_SORT_RES, "sort by resident memory (RES)" },
   { KEYSCOPE_TABLE, 'P', "P", ACTION_SORT_CPU, "sort by CPU%" },
   { KEYSCOPE_TABLE, 'T', "T", ACTION_SORT_TIME, "sort by CPU time (TIME+)" },
   { KEYSCOPE_TABLE, '<', "<", ACTION_SORT_PREV, "sort by the column to the left" },
   { KEYSCOPE_TABLE, ',', ",", ACTION_SORT_PREV, "sort by the column to the left" },
   { KEYSCOPE_TABLE, '>', ">", ACTION_SORT_NEXT, "sort by the column to the right" },
   { KEYSCOPE_TABLE, '.', ".", ACTION_SORT_NEXT, "sort by the column to the right" },
   { KEYSCOPE_TABLE, KEY_F(6), "F6", ACTION_CHOOSER, "column chooser: sort column and visible columns" },
   { KEYSCOPE_TABLE, KEY_F(2), "F2", ACTION_CHOOSER, "column chooser: sort column and visible columns" },
   { KEYSCOPE_TABLE, 'I', "I", ACTION_INVERT, "invert the sort order" },
   { KEYSCOPE_TABLE, '/', "/", ACTION_SEARCH, "incremental search by name (jumps to the match)" },
   { KEYSCOPE_TABLE, KEY_F(3), "F3", ACTION_SEARCH_NEXT, "next search match" },
   { KEYSCOPE_TABLE, 'n', "n", ACTION_SEARCH_NEXT, "next search match" },
   { KEYSCOPE_TABLE, 'N', "N", ACTION_SEARCH_PREV, "previous search match" },
   { KEYSCOPE_TABLE, KEY_F(15), "Shift-F3", ACTION_SEARCH_PREV, "previous search match" },
   { KEYSCOPE_TABLE, '\\', "\\", ACTION_FILTER, "filter: show only processes whose name matches" },
   { KEYSCOPE_TABLE, KEY_F(4), "F4", ACTION_FILTER, "filter: show only processes whose name matches" },
   { KEYSCOPE_TABLE, 'H', "H", ACTION_THREADS, "show/hide threads under their process" },
   { KEYSCOPE_TABLE, '\n', "Enter", ACTION_DETAIL, "detail view of the selected process" },
   { KEYSCOPE_TABLE, '\r', "Enter", ACTION_DETAIL, "detail view of the selected process" },
   { KEYSCOPE_TABLE, KEY_ENTER, "Enter", ACTION_DETAIL, "detail view of the selected process" },
   { KEYSCOPE_TABLE, 's', "s", ACTION_STACK, "stack view: grouped thread stacks of the selected process" },
   { KEYSCOPE_TABLE, '?', "?", ACTION_HELP, "this help" },
   { KEYSCOPE_TABLE, KEY_F(1), "F1", ACTION_HELP, "this help" },
   { KEYSCOPE_TABLE, 'h', "h", ACTION_HELP, "this help" },
   { KEYSCOPE_TABLE, KEY_CTRL('l'), "Ctrl-L", ACTION_REDRAW, "redraw the screen" },
   { KEYSCOPE_TABLE, 'q', "q", ACTION_QUIT, "quit (settings are saved)" },
   { KEYSCOPE_TABLE, KEY_F(10), "F10", ACTION_QUIT, "quit (settings are saved)" },

   { KEYSCOPE_INPUT, '\n', "Enter", ACTION_INPUT_ACCEPT, "keep the search / filter and leave the line" },
   { KEYSCOPE_INPUT, '\r', "Enter", ACTION_INPUT_ACCEPT, "keep the search / filter and leave the line" },
   { KEYSCOPE_INPUT, KEY_ENTER, "Enter", ACTION_INPUT_ACCEPT, "keep the search / filter and leave the line" },
   { KEYSCOPE_INPUT, KEY_ESC, "Esc", ACTION_INPUT_CANCEL, "cancel the search / clear the filter" },
   { KEYSCOPE_INPUT, KEY_BACKSPACE, "Backspace", ACTION_INPUT_ERASE, "delete the last character" },
   { KEYSCOPE_INPUT, 127, "Backspace", ACTION_INPUT_ERASE, "delete the last character" },
   { KEYSCOPE_INPUT, KEY_CTRL('h'), "Ctrl-H", ACTION_INPUT_ERASE, "delete the last character" },
   { KEYSCOPE_INPUT, KEY_F(3), "F3", ACTION_SEARCH_NEXT, "next match while searching" },

   { KEYSCOPE_DETAIL, 's', "s", ACTION_STACK, "stack view of this process" },
   { KEYSCOPE_DETAIL, '?', "?", ACTION_HELP, "this help" },
   { KEYSCOPE_DETAIL, KEY_F(1), "F1", ACTION_HELP, "this help" },
   { KEYSCOPE_DETAIL, KEY_ESC, "Esc", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_DETAIL, 'q', "q", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_DETAIL, '\n', "Enter", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_DETAIL, '\r', "Enter", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_DETAIL, KEY_ENTER, "Enter", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_DETAIL, KEY_F(10), "F10", ACTION_QUIT, "quit stacktop" },

   { KEYSCOPE_STACK, 'r', "r", ACTION_RETAKE, "take the stack dump again" },
   { KEYSCOPE_STACK, 'g', "g", ACTION_GROUPING, "switch grouping between pc and function (re-takes)" },
   { KEYSCOPE_STACK, 'w', "w", ACTION_SAVE, "save the dump to ./stacktop-PID-YYYYmmdd-HHMMSS.txt" },
   { KEYSCOPE_STACK, '?', "?", ACTION_HELP, "this help" },
   { KEYSCOPE_STACK, KEY_F(1), "F1", ACTION_HELP, "this help" },
   { KEYSCOPE_STACK, KEY_ESC, "Esc", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_STACK, 'q', "q", ACTION_BACK, "back to the process table" },
   { KEYSCOPE_STACK, KEY_F(10), "F10", ACTION_QUIT, "quit stacktop" },

   { KEYSCOPE_CHOOSER, '\n', "Enter", ACTION_CHOOSER_SORT, "sort by the column under the cursor" },
   { KEYSCOPE_CHOOSER, '\r', "Enter", ACTION_CHOOSER_SORT, "sort by the column under the cursor" },
   { KEYSCOPE_CHOOSER, KEY_ENTER, "Enter", ACTION_CHOOSER_SORT, "sort by the column under the cursor" },
   { KEYSCOPE_CHOOSER, 'v', "v", ACTION_CHOOSER_TOGGLE, "show/hide the column under the cursor" },
   { KEYSCOPE_CHOOSER, 'x', "x", ACTION_CHOOSER_TOGGLE, "show/hide the column under the cursor" },
   { KEYSCOPE_CHOOSER, KEY_ESC, "Esc", ACTION_BACK, "close the chooser" },
   { KEYSCOPE_CHOOSER, 'q', "q", ACTION_BACK, "close the chooser" },
   { KEYSCOPE_CHOOSER, KEY_F(6), "F6", ACTION_BACK, "close the chooser" },
   { KEYSCOPE_CHOOSER, KEY_F(2), "F2", ACTION_BACK, "close the chooser" },

   { KEYSCOPE_HELP, KEY_ESC, "Esc", ACTION_BACK, "close the help" },
   { KEYSCOPE_HELP, 'q', "q", ACTION_BACK, "close the help" },
   { KEYSCOPE_HELP, '?', "?", ACTION_BACK, "close the help" },
   { KEYSCOPE_HELP, KEY_F(1), "F1", ACTION_BACK, "close the help" },
   { KEYSCOPE_HELP, KEY_F(10), "F10", ACTION_QUIT, "quit stacktop" },
};

static const char* const scopeTitles[KEYSCOPE_COUNT] = {
   [KEYSCOPE_MOVE] = "Moving (every list)",
   [KEYSCOPE_TABLE] = "Process table",
   [KEYSCOPE_INPUT] = "Search / filter line (type to edit)",
   [KEYSCOPE_DETAIL] = "Detail view (Enter)",
   [KEYSCOPE_STACK] = "Stack view (s)",
   [KEYSCOPE_CHOOSER] = "Column chooser (F6, F2)",
   [KEYSCOPE_HELP] = "Help (?, F1)",
};

/* Scopes that also take the movement keys. */
static const bool scrollable[KEYSCOPE_COUNT] = {
   [KEYSCOPE_TABLE] = true,   [KEYSCOPE_DETAIL] = true, [KEYSCOPE_STACK] = true,
   [KEYSCOPE_CHOOSER] = true, [KEYSCOPE_HELP] = true,
};

#define BINDING_COUNT (sizeof(bindings) / sizeof(bindings[0]))

static KeyAction find(KeyScope scope, int key) {
   for (size_t i = 0; i < BINDING_COUNT; i++) {
      if (bindings[i].scope == scope && bindings[i].key == key)
         return bindings[i].action;
   }
   return ACTION_NONE;
}

KeyAction KeyMap_lookup(KeyScope scope, int key) {
   KeyAction action = find(scope, key);
   if (action == ACTION_NONE && scope < KEYSCOPE_COUNT && scrollable[scope])
      action = find(KEYSCOPE_MOVE, key);
   return action;
}

size_t KeyMap_count(void) {
   return BINDING_COUNT;
}

const KeyBinding* KeyMap_at(size_t i) {
   return i < BINDING_COUNT ? &bindings[i] : NULL;
}

const char* KeyMap_scopeTitle(KeyScope scope) {
   return scope < KEYSCOPE_COUNT ? scopeTitles[scope] : "";
}

long KeyMap_moveDelta(KeyAction action, long page, long total) {
   switch (action) {
   case ACTION_UP: return -1;
   case ACTION_DOWN: return 1;
   case ACTION_PAGE_UP: return -(page > 1 ? page : 1);
   case ACTION_PAGE_DOWN: return page > 1 ? page : 1;
   case ACTION_HOME: return -(total > 0 ? total : 1);
   case ACTION_END: return total > 0 ? total : 1;
   default: return 0;
   }
}

void KeyMap_keyNames(KeyScope scope, KeyAction action, char* buf, size_t size) {
   size_t used = 0;
   buf[0] = '\0';
   for (size_t i = 0; i < BINDING_COUNT && used < size; i++) {
      const KeyBinding* b = &bindings[i];
      if (b->scope != scope || b->action != action)
         continue;
      /* Enter and Backspace have several codes but one name. */
      char needle[24];
      Util_format(needle, sizeof(needle), " %s ", b->keyName);
      char have[256];
      Util_format(have, sizeof(have), " %s ", buf);
      if (strstr(have, needle))
         continue;
      int n = snprintf(buf + used, size - used, "%s%s", used ? " " : "", b->keyName);
      if (n < 0)
         break;
      used += (size_t)n;
   }
   if (used >= size)
      buf[size - 1] = '\0';
}
