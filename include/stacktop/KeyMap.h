#ifndef STACKTOP_KEYMAP_H
#define STACKTOP_KEYMAP_H
/* The monitor's key bindings: one table of (scope, key, action, help text).
 * The monitor dispatches through it and the help screen is generated from it,
 * so a key cannot work without being documented. */
#include <stdbool.h>
#include <stddef.h>

typedef enum KeyScope_ {
   KEYSCOPE_MOVE,    /* every scrollable view */
   KEYSCOPE_TABLE,   /* the process table */
   KEYSCOPE_INPUT,   /* the search / filter / delay line */
   KEYSCOPE_DETAIL,  /* the detail view of one process */
   KEYSCOPE_STACK,   /* the stack view */
   KEYSCOPE_CHOOSER, /* the column chooser */
   KEYSCOPE_SIGNAL,  /* the signal list of k / F9 */
   KEYSCOPE_USERS,   /* the user list of u */
   KEYSCOPE_CONFIRM, /* a yes/no question on the status line */
   KEYSCOPE_HELP,    /* this help */
   KEYSCOPE_COUNT,
} KeyScope;

typedef enum KeyAction_ {
   ACTION_NONE,
   ACTION_UP,
   ACTION_DOWN,
   ACTION_PAGE_UP,
   ACTION_PAGE_DOWN,
   ACTION_HOME,
   ACTION_END,
   ACTION_SORT_RES,
   ACTION_SORT_CPU,
   ACTION_SORT_TIME,
   ACTION_SORT_PREV,
   ACTION_SORT_NEXT,
   ACTION_CHOOSER,
   ACTION_INVERT,
   ACTION_SEARCH,
   ACTION_SEARCH_NEXT,
   ACTION_SEARCH_PREV,
   ACTION_FILTER,
   ACTION_THREADS,
   ACTION_DETAIL,
   ACTION_STACK,
   ACTION_HELP,
   ACTION_REDRAW,
   ACTION_QUIT,
   ACTION_BACK,
   ACTION_RETAKE,
   ACTION_GROUPING,
   ACTION_SWITCH_PART,
   ACTION_SAVE,
   ACTION_CHOOSER_SORT,
   ACTION_CHOOSER_TOGGLE,
   ACTION_INPUT_ACCEPT,
   ACTION_INPUT_CANCEL,
   ACTION_INPUT_ERASE,
   ACTION_SCROLL_LEFT,
   ACTION_SCROLL_RIGHT,
   ACTION_KILL,
   ACTION_NICE_MINUS,
   ACTION_NICE_PLUS,
   ACTION_TAG,
   ACTION_TAG_CHILDREN,
   ACTION_UNTAG,
   ACTION_TREE,
   ACTION_EXPAND,
   ACTION_COLLAPSE,
   ACTION_TOGGLE_ALL,
   ACTION_USERS,
   ACTION_KERNEL_THREADS,
   ACTION_PAUSE,
   ACTION_DELAY,
   ACTION_FOLLOW,
   ACTION_SPAN_NEXT,
   ACTION_SPAN_PREV,
   ACTION_TOGGLE_GROUP,
   ACTION_NEXT_GROUP,
   ACTION_PREV_GROUP,
   ACTION_MENU_SELECT,
   ACTION_CONFIRM,
   ACTION_COUNT,
} KeyAction;

typedef struct KeyBinding_ {
   KeyScope scope;
   int key;             /* curses key code */
   const char* keyName; /* as shown in the help */
   KeyAction action;
   const char* help;
   const char* hint; /* label on the status line's key hints (this binding's key shown); NULL: not there */
} KeyBinding;

/* The action bound to key in scope; scrollable scopes also take the
 * KEYSCOPE_MOVE keys. ACTION_NONE when unbound. */
KeyAction KeyMap_lookup(KeyScope scope, int key);
size_t KeyMap_count(void);
const KeyBinding* KeyMap_at(size_t i);
const char* KeyMap_scopeTitle(KeyScope scope);
/* For movement actions: the line delta given a page size and the list length
 * (Home/End move by the whole length); 0 for other actions. */
long KeyMap_moveDelta(KeyAction action, long page, long total);
/* Key names of every binding of action in scope, joined by spaces ("q F10"). */
void KeyMap_keyNames(KeyScope scope, KeyAction action, char* buf, size_t size);
/* The status line's key hints of a scope, in table order: writes at most
 * max bindings that have a hint and returns how many. */
size_t KeyMap_hints(KeyScope scope, const KeyBinding** out, size_t max);
/* Cells the hints of scope take as drawn ("KEY Label" joined by two spaces):
 * every scope's hints fit an 80-column terminal. */
int KeyMap_hintCells(KeyScope scope);

#endif
