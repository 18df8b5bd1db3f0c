/* The interactive monitor: one MonitorContext with all UI state, a loop that
 * re-reads /proc once per delay (unless paused), rebuilds rows from that
 * cached sample on keys, and blocks in getch until the next refresh is due. */
#include "stacktop/Monitor.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/ColumnChooser.h"
#include "stacktop/DetailView.h"
#include "stacktop/Draw.h"
#include "stacktop/Header.h"
#include "stacktop/HelpView.h"
#include "stacktop/KeyMap.h"
#include "stacktop/Menu.h"
#include "stacktop/ProcessActions.h"
#include "stacktop/ProcessTable.h"
#include "stacktop/Sampler.h"
#include "stacktop/Screen.h"
#include "stacktop/Settings.h"
#include "stacktop/StackView.h"
#include "stacktop/Theme.h"
#include "stacktop/Util.h"

#define STATUS_SECONDS 6.0
#define WARNING_SECONDS 12.0
#define FIRST_INTERVAL_MAX_S 1.0 /* CPU% needs two samples: take the second one soon */
#define BUSY_POLL_MS 100         /* while a dump runs: notice its end, count its seconds */
#define MIN_LINES 8
#define MIN_COLUMNS 40
#define HSCROLL_CELLS 8 /* Left/Right */
#define WHEEL_LINES 3   /* one mouse wheel step */
#define MAX_DELAY_S 86400.0

typedef enum MonitorView_ {
   VIEW_TABLE,
   VIEW_DETAIL,
   VIEW_STACK,
   VIEW_HELP,
   VIEW_COUNT,
} MonitorView;

typedef enum InputMode_ {
   INPUT_NONE,
   INPUT_SEARCH,
   INPUT_FILTER,
   INPUT_DELAY,
} InputMode;

/* The list panel open over the table, if any. */
typedef enum MenuKind_ {
   MENU_NONE,
   MENU_SIGNAL,
   MENU_USERS,
} MenuKind;

typedef struct MonitorContext_ {
   const Options* options;
   Settings settings;
   char rcPath[1024];
   char warning[768]; /* rc/theme problems: status line, then stderr after curses */
   Theme theme;
   Screen screen;
   Sampler* sampler;            /* owned */
   const ProcessSample** procs; /* owned array of pointers into the sampler's sample */
   size_t procCount, procCapacity;
   bool threadsSampled; /* Sampler_setThreads state */
   ProcessTable table;
   DetailView detail;
   HelpView help;
   ColumnChooser chooser;
   bool chooserOpen;
   Menu menu;
   MenuKind menuKind;
   PendingSignal pending;
   StackView* stack; /* owned */
   MonitorView view;
   MonitorView helpReturn;  /* the view help goes back to */
   MonitorView stackReturn; /* the view the stack view goes back to */
   InputMode input;
   char inputText[192]; /* UTF-8 */
   char search[192];
   bool searchFailed;
   char userName[64]; /* of the user filter, for the status line */
   bool paused;
   char status[512];
   bool statusError;
   double statusUntil; /* 0: no message */
   double nextRefresh;
   bool quit;
} MonitorContext;

static const KeyScope viewScopes[VIEW_COUNT] = {
   [VIEW_TABLE] = KEYSCOPE_TABLE,
   [VIEW_DETAIL] = KEYSCOPE_DETAIL,
   [VIEW_STACK] = KEYSCOPE_STACK,
   [VIEW_HELP] = KEYSCOPE_HELP,
};

static void setStatus(MonitorContext* ctx, bool error, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

static void setStatus(MonitorContext* ctx, bool error, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(ctx->status, sizeof(ctx->status), fmt, ap);
   va_end(ap);
   ctx->statusError = error;
   ctx->statusUntil = Util_monotonicSeconds() + (error ? WARNING_SECONDS : STATUS_SECONDS);
}

/* ---- sampling */

static void collect(MonitorContext* ctx) {
   size_t count = Sampler_count(ctx->sampler);
   if (count > 0)
      Util_growArray((void**)&ctx->procs, &ctx->procCapacity, count - 1, sizeof(*ctx->procs));
   for (size_t i = 0; i < count; i++)
      ctx->procs[i] = Sampler_at(ctx->sampler, i);
   ctx->procCount = count;
}

static void rebuildTable(MonitorContext* ctx) {
   ProcessTable_rebuild(&ctx->table, ctx->procs, ctx->procCount);
}

/* The start time of whatever process has pid now (0: none). */
static unsigned long long currentStart(const MonitorContext* ctx, pid_t pid) {
   const ProcessSample* p = Sampler_find(ctx->sampler, pid);
   return p ? p->startTicks : 0;
}

static void refreshSample(MonitorContext* ctx) {
   char err[256];
   /* Optional files are read only for the columns on screen. */
   Sampler_setFields(ctx->sampler, Column_fields(ctx->table.visible));
   if (Sampler_refresh(ctx->sampler, err, sizeof(err)) != 0)
      setStatus(ctx, true, "refresh failed: %s", err);
   collect(ctx);
   rebuildTable(ctx);
   if (StackView_pid(ctx->stack) > 0)
      StackView_setCurrentProcess(ctx->stack, currentStart(ctx, StackView_pid(ctx->stack)));
   ctx->nextRefresh = Util_monotonicSeconds() + ctx->settings.delayS;
}

/* Thread rows cost a read of every /proc/PID/task: only while shown. */
static void updateThreadSampling(MonitorContext* ctx) {
   bool want =
       ctx->table.showThreads || ctx->view == VIEW_DETAIL || (ctx->view == VIEW_HELP && ctx->helpReturn == VIEW_DETAIL);
   if (want == ctx->threadsSampled)
      return;
   Sampler_setThreads(ctx->sampler, want);
   ctx->threadsSampled = want;
   if (want)
      ctx->nextRefresh = 0; /* the rows are needed now, not after the delay */
}

static const ProcessSample* selectedProcess(const MonitorContext* ctx) {
   const TableRow* row = ProcessTable_selectedRow(&ctx->table);
   return row ? row->process : NULL;
}

/* ---- actions */

typedef void (*ActionHandler)(MonitorContext* ctx, KeyAction action);

static void actionMove(MonitorContext* ctx, KeyAction action) {
   if (ctx->menuKind != MENU_NONE) {
      Menu_move(&ctx->menu, KeyMap_moveDelta(action, ctx->menu.pageRows, (long)ctx->menu.count));
      return;
   }
   if (ctx->chooserOpen) {
      ColumnChooser_move(&ctx->chooser, KeyMap_moveDelta(action, COL_COUNT, COL_COUNT));
      return;
   }
   switch (ctx->view) {
   case VIEW_TABLE:
      ProcessTable_move(&ctx->table, KeyMap_moveDelta(action, ctx->table.pageRows, (long)ctx->table.rowCount));
      break;
   case VIEW_DETAIL: DetailView_scroll(&ctx->detail, KeyMap_moveDelta(action, ctx->detail.pageRows, 1L << 20)); break;
   case VIEW_STACK:
      StackView_move(ctx->stack,
                     KeyMap_moveDelta(action, StackView_pageRows(ctx->stack), (long)StackView_rowCount(ctx->stack)));
      break;
   case VIEW_HELP:
      HelpView_scroll(&ctx->help, KeyMap_moveDelta(action, ctx->help.pageRows, (long)HelpView_lineCount()));
      break;
   default: break;
   }
}

static void setSort(MonitorContext* ctx, ColumnId id) {
   ctx->table.sortColumn = id;
   ctx->table.invert = false;
   Settings_markChanged(&ctx->settings, SETTING_SORT_COLUMN);
   Settings_markChanged(&ctx->settings, SETTING_SORT_INVERT);
   rebuildTable(ctx);
   setStatus(ctx, false, "sorted by %s", Column_get(id)->header);
}

static void actionSort(MonitorContext* ctx, KeyAction action) {
   static const ColumnId columns[ACTION_COUNT] = {
      [ACTION_SORT_RES] = COL_RES,
      [ACTION_SORT_CPU] = COL_CPU,
      [ACTION_SORT_TIME] = COL_TIME,
   };
   setSort(ctx, columns[action]);
}

static void actionSortAdjacent(MonitorContext* ctx, KeyAction action) {
   setSort(ctx, ProcessTable_adjacentColumn(&ctx->table, action == ACTION_SORT_NEXT ? 1 : -1));
}

static void actionChooser(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ColumnChooser_open(&ctx->chooser, ctx->table.sortColumn);
   ctx->chooserOpen = true;
}

static void actionInvert(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->table.invert = !ctx->table.invert;
   Settings_markChanged(&ctx->settings, SETTING_SORT_INVERT);
   rebuildTable(ctx);
}

static void startInput(MonitorContext* ctx, InputMode mode, const char* initial) {
   ctx->input = mode;
   Util_format(ctx->inputText, sizeof(ctx->inputText), "%s", initial);
   ctx->searchFailed = false;
}

static void actionSearch(MonitorContext* ctx, KeyAction action) {
   (void)action;
   startInput(ctx, INPUT_SEARCH, "");
}

/* One search step in the view being searched: the table or the stack view. */
static bool searchStep(MonitorContext* ctx, const char* text, int direction, bool includeCurrent) {
   if (ctx->view == VIEW_STACK)
      return StackView_search(ctx->stack, text, direction, includeCurrent);
   bool found = ProcessTable_search(&ctx->table, text, direction, includeCurrent);
   /* As in htop, the process found is followed. */
   if (found)
      ctx->table.following = true;
   return found;
}

static void actionSearchStep(MonitorContext* ctx, KeyAction action) {
   const char* text = ctx->input == INPUT_SEARCH ? ctx->inputText : ctx->search;
   if (!text[0]) {
      setStatus(ctx, false, "no search yet: press / and type a name");
      return;
   }
   ctx->searchFailed = !searchStep(ctx, text, action == ACTION_SEARCH_PREV ? -1 : 1, false);
   if (ctx->searchFailed && ctx->input == INPUT_NONE)
      setStatus(ctx, true, "nothing matches '%s'", text);
}

static void actionFilter(MonitorContext* ctx, KeyAction action) {
   (void)action;
   startInput(ctx, INPUT_FILTER, ctx->table.filter);
}

static void actionDelay(MonitorContext* ctx, KeyAction action) {
   (void)action;
   char now[32];
   Util_format(now, sizeof(now), "%g", ctx->settings.delayS);
   startInput(ctx, INPUT_DELAY, now);
}

static void actionThreads(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->table.showThreads = !ctx->table.showThreads;
   Settings_markChanged(&ctx->settings, SETTING_SHOW_THREADS);
   updateThreadSampling(ctx);
   rebuildTable(ctx);
}

static void actionKernelThreads(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->table.hideKernelThreads = !ctx->table.hideKernelThreads;
   Settings_markChanged(&ctx->settings, SETTING_HIDE_KERNEL_THREADS);
   rebuildTable(ctx);
   setStatus(ctx, false, "kernel threads %s", ctx->table.hideKernelThreads ? "hidden" : "shown");
}

static void actionTree(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->table.tree = !ctx->table.tree;
   Settings_markChanged(&ctx->settings, SETTING_TREE);
   rebuildTable(ctx);
}

static void actionFold(MonitorContext* ctx, KeyAction action) {
   if (ctx->view == VIEW_STACK) {
      if (action == ACTION_TOGGLE_ALL)
         StackView_toggleAll(ctx->stack);
      else
         StackView_setExpanded(ctx->stack, action == ACTION_EXPAND);
      return;
   }
   if (!ctx->table.tree) {
      setStatus(ctx, false, "+, - and * fold the tree view: press t first");
      return;
   }
   if (action == ACTION_TOGGLE_ALL)
      ProcessTable_toggleAll(&ctx->table);
   else
      ProcessTable_setCollapsed(&ctx->table, action == ACTION_COLLAPSE);
   rebuildTable(ctx);
}

static void actionFollow(MonitorContext* ctx, KeyAction action) {
   (void)action;
   const ProcessSample* p = selectedProcess(ctx);
   if (!p)
      return;
   ctx->table.following = !ctx->table.following;
   if (ctx->table.following)
      setStatus(ctx, false, "following %d (%s): it keeps its line; a move key stops following", (int)p->pid, p->comm);
   else
      setStatus(ctx, false, "not following");
}

static void actionPause(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->paused = !ctx->paused;
   if (!ctx->paused)
      ctx->nextRefresh = 0;
   setStatus(ctx, false, "%s", ctx->paused ? "paused: Z resumes" : "resumed");
}

static void actionScroll(MonitorContext* ctx, KeyAction action) {
   int delta = action == ACTION_SCROLL_LEFT ? -HSCROLL_CELLS : HSCROLL_CELLS;
   if (ctx->view == VIEW_STACK)
      StackView_scrollH(ctx->stack, delta);
   else
      ProcessTable_scrollH(&ctx->table, delta);
}

static void actionTag(MonitorContext* ctx, KeyAction action) {
   if (action == ACTION_UNTAG)
      ProcessTable_untagAll(&ctx->table);
   else if (action == ACTION_TAG_CHILDREN)
      ProcessTable_tagWithChildren(&ctx->table, ctx->procs, ctx->procCount);
   else
      ProcessTable_toggleTag(&ctx->table);
   if (action == ACTION_TAG)
      ProcessTable_move(&ctx->table, 1); /* as in htop: tag, then the next row */
   if (ctx->table.tagCount)
      setStatus(ctx, false, "%zu tagged: k, F7 and F8 act on them (U untags)", ctx->table.tagCount);
   else
      setStatus(ctx, false, "nothing tagged");
}

static void actionDetail(MonitorContext* ctx, KeyAction action) {
   (void)action;
   const ProcessSample* p = selectedProcess(ctx);
   if (!p)
      return;
   DetailView_open(&ctx->detail, p, ctx->screen.utf8);
   ctx->view = VIEW_DETAIL;
   updateThreadSampling(ctx);
}

static void actionSpan(MonitorContext* ctx, KeyAction action) {
   DetailView_cycleSpan(&ctx->detail, action == ACTION_SPAN_PREV ? -1 : 1);
}

static void actionStack(MonitorContext* ctx, KeyAction action) {
   (void)action;
   pid_t pid;
   char comm[16];
   if (ctx->view == VIEW_DETAIL) {
      pid = ctx->detail.pid;
      Util_format(comm, sizeof(comm), "%s", ctx->detail.comm);
   } else {
      const ProcessSample* p = selectedProcess(ctx);
      if (!p)
         return;
      pid = p->pid;
      Util_format(comm, sizeof(comm), "%s", p->comm);
   }
   unsigned long long start = currentStart(ctx, pid);
   char msg[256];
   if (start == 0) {
      setStatus(ctx, true, "process %d has exited: no stacks to take", (int)pid);
      return;
   }
   if (!StackView_start(ctx->stack, pid, start, comm, msg, sizeof(msg))) {
      setStatus(ctx, true, "%s", msg);
      return;
   }
   ctx->stackReturn = ctx->view;
   ctx->view = VIEW_STACK;
   updateThreadSampling(ctx);
}

static void actionHelp(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->helpReturn = ctx->view;
   ctx->view = VIEW_HELP;
   ctx->help.scroll = 0;
}

static void actionRedraw(MonitorContext* ctx, KeyAction action) {
   (void)ctx;
   (void)action;
   clearok(curscr, TRUE);
}

static void actionQuit(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->quit = true;
}

static void actionBack(MonitorContext* ctx, KeyAction action) {
   (void)action;
   if (ctx->pending.active) {
      ctx->pending.active = false;
      setStatus(ctx, false, "nothing sent");
      return;
   }
   if (ctx->menuKind != MENU_NONE) {
      ctx->menuKind = MENU_NONE;
      return;
   }
   if (ctx->chooserOpen) {
      ctx->chooserOpen = false;
      return;
   }
   switch (ctx->view) {
   case VIEW_HELP: ctx->view = ctx->helpReturn; break;
   case VIEW_STACK: ctx->view = ctx->stackReturn; break;
   default: ctx->view = VIEW_TABLE; break;
   }
   updateThreadSampling(ctx);
}

static void actionRetake(MonitorContext* ctx, KeyAction action) {
   char msg[256];
   unsigned long long start = currentStart(ctx, StackView_pid(ctx->stack));
   if (!StackView_retake(ctx->stack, action == ACTION_GROUPING, start, msg, sizeof(msg)))
      setStatus(ctx, true, "%s", msg);
}

static void actionSwitchPart(MonitorContext* ctx, KeyAction action) {
   (void)action;
   char msg[256];
   if (!StackView_switchPart(ctx->stack, msg, sizeof(msg)))
      setStatus(ctx, true, "%s", msg);
}

static void actionSave(MonitorContext* ctx, KeyAction action) {
   (void)action;
   char msg[1400];
   int rc = StackView_save(ctx->stack, msg, sizeof(msg));
   setStatus(ctx, rc != 0, "%s", msg);
}

static void actionStackNavigate(MonitorContext* ctx, KeyAction action) {
   if (action == ACTION_TOGGLE_GROUP)
      StackView_toggleGroup(ctx->stack);
   else
      StackView_jumpGroup(ctx->stack, action == ACTION_NEXT_GROUP ? 1 : -1);
}

static void actionChooserSort(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->chooserOpen = false;
   setSort(ctx, (ColumnId)ctx->chooser.cursor);
}

static void actionChooserToggle(MonitorContext* ctx, KeyAction action) {
   (void)action;
   if (!ColumnChooser_toggle(&ctx->chooser, ctx->table.visible)) {
      setStatus(ctx, true, "at least one column must stay visible");
      return;
   }
   Settings_markChanged(&ctx->settings, SETTING_COLUMNS);
   rebuildTable(ctx);
}

/* ---- acting on processes (ProcessActions) */

static void actionKill(MonitorContext* ctx, KeyAction action) {
   (void)action;
   if (ProcessActions_openSignals(&ctx->pending, &ctx->menu, &ctx->table, ctx->sampler))
      ctx->menuKind = MENU_SIGNAL;
}

static void actionConfirm(MonitorContext* ctx, KeyAction action) {
   (void)action;
   if (!ctx->pending.active)
      return;
   char msg[512];
   bool ok = ProcessActions_send(&ctx->pending, ctx->sampler, msg, sizeof(msg));
   setStatus(ctx, !ok, "%s", msg);
   ctx->nextRefresh = 0; /* show the outcome now */
}

static void actionNice(MonitorContext* ctx, KeyAction action) {
   char msg[512];
   bool ok = ProcessActions_renice(&ctx->table, ctx->sampler, action == ACTION_NICE_MINUS ? -1 : 1, msg, sizeof(msg));
   setStatus(ctx, !ok, "%s", msg);
   ctx->nextRefresh = 0;
}

static void actionUsers(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ProcessActions_fillUsers(&ctx->menu, ctx->procs, ctx->procCount, ctx->table.userFilter, ctx->table.uid);
   ctx->menuKind = MENU_USERS;
}

static void applyUser(MonitorContext* ctx, const MenuItem* item) {
   ctx->table.userFilter = item->value >= 0;
   ctx->table.uid = (uid_t)(item->value >= 0 ? item->value : 0);
   Util_format(ctx->userName, sizeof(ctx->userName), "%s", item->value >= 0 ? item->text : "");
   rebuildTable(ctx);
}

static void actionMenuSelect(MonitorContext* ctx, KeyAction action) {
   (void)action;
   const MenuItem* item = Menu_current(&ctx->menu);
   MenuKind kind = ctx->menuKind;
   ctx->menuKind = MENU_NONE;
   if (!item)
      return;
   if (kind == MENU_SIGNAL)
      ProcessActions_ask(&ctx->pending, (int)item->value, ctx->sampler);
   else if (kind == MENU_USERS)
      applyUser(ctx, item);
}

static const ActionHandler handlers[ACTION_COUNT] = {
   [ACTION_UP] = actionMove,
   [ACTION_DOWN] = actionMove,
   [ACTION_PAGE_UP] = actionMove,
   [ACTION_PAGE_DOWN] = actionMove,
   [ACTION_HOME] = actionMove,
   [ACTION_END] = actionMove,
   [ACTION_SORT_RES] = actionSort,
   [ACTION_SORT_CPU] = actionSort,
   [ACTION_SORT_TIME] = actionSort,
   [ACTION_SORT_PREV] = actionSortAdjacent,
   [ACTION_SORT_NEXT] = actionSortAdjacent,
   [ACTION_CHOOSER] = actionChooser,
   [ACTION_INVERT] = actionInvert,
   [ACTION_SEARCH] = actionSearch,
   [ACTION_SEARCH_NEXT] = actionSearchStep,
   [ACTION_SEARCH_PREV] = actionSearchStep,
   [ACTION_FILTER] = actionFilter,
   [ACTION_THREADS] = actionThreads,
   [ACTION_DETAIL] = actionDetail,
   [ACTION_STACK] = actionStack,
   [ACTION_HELP] = actionHelp,
   [ACTION_REDRAW] = actionRedraw,
   [ACTION_QUIT] = actionQuit,
   [ACTION_BACK] = actionBack,
   [ACTION_RETAKE] = actionRetake,
   [ACTION_GROUPING] = actionRetake,
   [ACTION_SWITCH_PART] = actionSwitchPart,
   [ACTION_SAVE] = actionSave,
   [ACTION_CHOOSER_SORT] = actionChooserSort,
   [ACTION_CHOOSER_TOGGLE] = actionChooserToggle,
   [ACTION_SCROLL_LEFT] = actionScroll,
   [ACTION_SCROLL_RIGHT] = actionScroll,
   [ACTION_KILL] = actionKill,
   [ACTION_NICE_MINUS] = actionNice,
   [ACTION_NICE_PLUS] = actionNice,
   [ACTION_TAG] = actionTag,
   [ACTION_TAG_CHILDREN] = actionTag,
   [ACTION_UNTAG] = actionTag,
   [ACTION_TREE] = actionTree,
   [ACTION_EXPAND] = actionFold,
   [ACTION_COLLAPSE] = actionFold,
   [ACTION_TOGGLE_ALL] = actionFold,
   [ACTION_USERS] = actionUsers,
   [ACTION_KERNEL_THREADS] = actionKernelThreads,
   [ACTION_PAUSE] = actionPause,
   [ACTION_DELAY] = actionDelay,
   [ACTION_FOLLOW] = actionFollow,
   [ACTION_SPAN_NEXT] = actionSpan,
   [ACTION_SPAN_PREV] = actionSpan,
   [ACTION_TOGGLE_GROUP] = actionStackNavigate,
   [ACTION_NEXT_GROUP] = actionStackNavigate,
   [ACTION_PREV_GROUP] = actionStackNavigate,
   [ACTION_MENU_SELECT] = actionMenuSelect,
   [ACTION_CONFIRM] = actionConfirm,
};

/* ---- the search / filter / delay line */

static void applyInput(MonitorContext* ctx) {
   if (ctx->input == INPUT_SEARCH) {
      ctx->searchFailed = ctx->inputText[0] && !searchStep(ctx, ctx->inputText, 1, true);
      return;
   }
   if (ctx->input == INPUT_FILTER) {
      Util_format(ctx->table.filter, sizeof(ctx->table.filter), "%s", ctx->inputText);
      rebuildTable(ctx);
   }
}

static void applyDelay(MonitorContext* ctx) {
   char* end;
   errno = 0;
   double d = strtod(ctx->inputText, &end);
   if (errno || end == ctx->inputText || *end || !(d > 0) || d > MAX_DELAY_S) {
      setStatus(ctx, true, "invalid delay '%s': expected seconds > 0, e.g. 1.5 (delay stays %g s)", ctx->inputText,
                ctx->settings.delayS);
      return;
   }
   ctx->settings.delayS = d;
   Settings_markChanged(&ctx->settings, SETTING_DELAY);
   ctx->nextRefresh = Util_monotonicSeconds() + d;
   setStatus(ctx, false, "refreshing every %g s", d);
}

static void leaveInput(MonitorContext* ctx, bool keep) {
   if (ctx->input == INPUT_SEARCH && keep && ctx->inputText[0])
      Util_format(ctx->search, sizeof(ctx->search), "%s", ctx->inputText);
   if (ctx->input == INPUT_SEARCH && ctx->view == VIEW_STACK)
      StackView_endSearch(ctx->stack, keep);
   if (ctx->input == INPUT_FILTER && !keep) {
      ctx->table.filter[0] = '\0';
      rebuildTable(ctx);
   }
   if (ctx->input == INPUT_DELAY && keep)
      applyDelay(ctx);
   ctx->input = INPUT_NONE;
   ctx->searchFailed = false;
}

/* Removes the last UTF-8 character of s. */
static void eraseLastChar(char* s) {
   size_t len = strlen(s);
   while (len > 0 && ((unsigned char)s[len - 1] & 0xc0) == 0x80)
      len--;
   if (len > 0)
      len--;
   s[len] = '\0';
}

static void dispatch(MonitorContext* ctx, int key);

static void handleInputKey(MonitorContext* ctx, int key) {
   KeyAction action = KeyMap_lookup(KEYSCOPE_INPUT, key);
   switch (action) {
   case ACTION_INPUT_ACCEPT: leaveInput(ctx, true); return;
   case ACTION_INPUT_CANCEL: leaveInput(ctx, false); return;
   case ACTION_INPUT_ERASE:
      eraseLastChar(ctx->inputText);
      applyInput(ctx);
      return;
   case ACTION_SEARCH_NEXT: actionSearchStep(ctx, action); return;
   default: break;
   }
   char bytes[8];
   size_t n = Screen_keyUtf8(key, bytes, sizeof(bytes));
   if (n > 0) {
      size_t len = strlen(ctx->inputText);
      if (len + n < sizeof(ctx->inputText))
         memcpy(ctx->inputText + len, bytes, n + 1);
      applyInput(ctx);
      return;
   }
   /* Any other key (arrows, function keys) ends the line and acts as usual. */
   leaveInput(ctx, true);
   dispatch(ctx, key);
}

/* ---- the mouse */

static void clickTable(MonitorContext* ctx, const ScreenMouse* m) {
   if (ProcessTable_isHeaderLine(&ctx->table, m->y)) {
      int id = ProcessTable_columnAt(&ctx->table, m->x);
      if (id < 0)
         return;
      /* As in htop: a click on the sort column inverts it. */
      if ((ColumnId)id == ctx->table.sortColumn)
         actionInvert(ctx, ACTION_INVERT);
      else
         setSort(ctx, (ColumnId)id);
      return;
   }
   ProcessTable_selectAt(&ctx->table, m->y);
}

static void handleMouse(MonitorContext* ctx) {
   ScreenMouse m;
   if (!Screen_mouse(&ctx->screen, &m))
      return;
   if (m.wheel) {
      actionMove(ctx, m.wheel < 0 ? ACTION_UP : ACTION_DOWN);
      for (int i = 1; i < WHEEL_LINES; i++)
         actionMove(ctx, m.wheel < 0 ? ACTION_UP : ACTION_DOWN);
      return;
   }
   if (ctx->menuKind != MENU_NONE) {
      Menu_selectAt(&ctx->menu, m.y);
      return;
   }
   if (ctx->chooserOpen || ctx->pending.active)
      return;
   if (ctx->view == VIEW_TABLE)
      clickTable(ctx, &m);
   else if (ctx->view == VIEW_STACK && !StackView_selectAt(ctx->stack, m.y))
      clickTable(ctx, &m); /* the live table above the dump */
}

static KeyScope currentScope(const MonitorContext* ctx) {
   if (ctx->pending.active)
      return KEYSCOPE_CONFIRM;
   if (ctx->menuKind == MENU_SIGNAL)
      return KEYSCOPE_SIGNAL;
   if (ctx->menuKind == MENU_USERS)
      return KEYSCOPE_USERS;
   if (ctx->chooserOpen)
      return KEYSCOPE_CHOOSER;
   return viewScopes[ctx->view];
}

static void dispatch(MonitorContext* ctx, int key) {
   if (key == KEY_RESIZE)
      return; /* ncurses already resized stdscr; the next draw uses the new size */
   if (key == KEY_MOUSE) {
      handleMouse(ctx);
      return;
   }
   if (ctx->input != INPUT_NONE) {
      handleInputKey(ctx, key);
      return;
   }
   KeyScope scope = currentScope(ctx);
   KeyAction action = KeyMap_lookup(scope, key);
   if (scope == KEYSCOPE_CONFIRM && action == ACTION_NONE)
      action = ACTION_BACK; /* anything but yes is no */
   if (handlers[action])
      handlers[action](ctx, action);
}

/* ---- drawing */

/* "F1 Help  F3 Search ..." from the key table; returns the cells used. */
static int drawHints(const MonitorContext* ctx, KeyScope scope, int y, int x, int width) {
   const KeyBinding* hints[32];
   size_t n = KeyMap_hints(scope, hints, sizeof(hints) / sizeof(hints[0]));
   for (size_t i = 0; i < n && x < width; i++) {
      if (i > 0)
         x += Draw_text(y, x, "  ", width - x, Theme_attr(&ctx->theme, STYLE_STATUS));
      x += Draw_text(y, x, hints[i]->keyName, width - x, Theme_attr(&ctx->theme, STYLE_STATUS_KEY));
      char label[40];
      Util_format(label, sizeof(label), " %s", hints[i]->hint);
      x += Draw_text(y, x, label, width - x, Theme_attr(&ctx->theme, STYLE_STATUS));
   }
   return x;
}

/* What the table shows, on the right of the hints when there is room. */
static void drawTableState(const MonitorContext* ctx, int y, int x, int width) {
   const ProcessTable* t = &ctx->table;
   char state[320];
   Util_format(state, sizeof(state), "%ssort %s %s%s%s%s%s%s%s%s", ctx->paused ? "PAUSED  " : "",
               Column_get(t->sortColumn)->header, ProcessTable_descending(t) ? "desc" : "asc",
               t->filter[0] ? "  filter '" : "", t->filter, t->filter[0] ? "'" : "", t->showThreads ? "  threads" : "",
               t->tree ? "  tree" : "", t->userFilter ? "  user " : "", t->userFilter ? ctx->userName : "");
   int cells = Draw_cells(state);
   if (x + cells + 1 < width)
      Draw_text(y, width - cells - 1, state, cells, Theme_attr(&ctx->theme, STYLE_STATUS));
}

static const char* inputLabel(InputMode mode) {
   switch (mode) {
   case INPUT_SEARCH: return "Search";
   case INPUT_FILTER: return "Filter";
   case INPUT_DELAY: return "Delay (seconds)";
   default: return "";
   }
}

static void drawStatus(const MonitorContext* ctx, int y, int width) {
   const Theme* theme = &ctx->theme;
   Draw_fill(y, 0, width, Theme_attr(theme, STYLE_STATUS));
   if (ctx->input != INPUT_NONE) {
      char line[300];
      Util_format(line, sizeof(line), "%s: %s_", inputLabel(ctx->input), ctx->inputText);
      int x = Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_STATUS_KEY));
      if (ctx->searchFailed)
         Draw_text(y, x, "   (no match)", width - x, Theme_attr(theme, STYLE_ERROR));
      else
         drawHints(ctx, KEYSCOPE_INPUT, y, x + 3, width);
      return;
   }
   if (ctx->pending.active) {
      int x = Draw_text(y, 0, ctx->pending.question, width, Theme_attr(theme, STYLE_ERROR));
      drawHints(ctx, KEYSCOPE_CONFIRM, y, x + 2, width);
      return;
   }
   KeyScope scope = currentScope(ctx);
   int x;
   if (ctx->statusUntil > 0)
      x = Draw_text(y, 0, ctx->status, width, Theme_attr(theme, ctx->statusError ? STYLE_ERROR : STYLE_STATUS));
   else
      x = drawHints(ctx, scope, y, 0, width);
   if (scope == KEYSCOPE_TABLE)
      drawTableState(ctx, y, x, width);
}

static void drawStack(MonitorContext* ctx, int y, int height, int width) {
   /* Keep a slice of the live table above the dump: the monitor goes on. */
   int tableRows = height >= 24 ? height / 3 : 0;
   if (tableRows)
      ProcessTable_draw(&ctx->table, &ctx->theme, y, tableRows, width);
   else
      ctx->table.drawnY = -1;
   StackView_draw(ctx->stack, &ctx->theme, y + tableRows, height - tableRows, width);
}

static void drawBody(MonitorContext* ctx, int y, int height, int width) {
   switch (ctx->view) {
   case VIEW_TABLE:
      ProcessTable_draw(&ctx->table, &ctx->theme, y, height, width);
      if (ctx->chooserOpen)
         ColumnChooser_draw(&ctx->chooser, ctx->table.visible, ctx->table.sortColumn, &ctx->theme, y + 1, height - 1,
                            width);
      if (ctx->menuKind != MENU_NONE)
         Menu_draw(&ctx->menu, &ctx->theme, y + 1, height - 1, width);
      break;
   case VIEW_DETAIL:
      DetailView_draw(&ctx->detail, Sampler_find(ctx->sampler, ctx->detail.pid), &ctx->theme, y, height, width);
      break;
   case VIEW_STACK: drawStack(ctx, y, height, width); break;
   case VIEW_HELP: HelpView_draw(&ctx->help, &ctx->theme, y, height, width); break;
   default: break;
   }
}

static void draw(MonitorContext* ctx) {
   int lines = Screen_lines(), cols = Screen_columns();
   erase();
   if (lines < MIN_LINES || cols < MIN_COLUMNS) {
      Draw_text(0, 0, "terminal too small for stacktop", cols, A_BOLD);
   } else {
      Header_draw(Sampler_system(ctx->sampler), &ctx->theme, cols);
      drawBody(ctx, HEADER_LINES, lines - HEADER_LINES - 1, cols);
      drawStatus(ctx, lines - 1, cols);
   }
   wnoutrefresh(stdscr);
   doupdate();
}

/* ---- set-up and the loop */

static void appendWarning(MonitorContext* ctx, const char* text) {
   size_t len = strlen(ctx->warning);
   Util_format(ctx->warning + len, sizeof(ctx->warning) - len, "%s%s", len ? "; " : "", text);
}

/* Settings from the rc file, then the command line (for this session only). */
static void loadSettings(MonitorContext* ctx) {
   Settings_initDefault(&ctx->settings);
   Settings_path(ctx->rcPath, sizeof(ctx->rcPath));
   char warn[512] = "";
   if (Settings_load(&ctx->settings, ctx->rcPath, warn, sizeof(warn)) > 0)
      appendWarning(ctx, warn);
   Settings_applyOptions(&ctx->settings, ctx->options);
}

/* --theme problems are usage errors (exit 2, before curses); a bad theme
 * named in the rc file only warns and falls back to the default. */
static int loadTheme(MonitorContext* ctx) {
   char err[768];
   if (Theme_load(&ctx->theme, ctx->settings.theme, err, sizeof(err)) == 0)
      return 0;
   if (ctx->options->theme[0]) {
      Util_error("%s", err);
      return STACKTOP_EXIT_USAGE;
   }
   char warn[900];
   Util_format(warn, sizeof(warn), "%s; using the default theme", err);
   appendWarning(ctx, warn);
   Theme_initDefault(&ctx->theme);
   return 0;
}

static int startSampler(MonitorContext* ctx) {
   const Options* o = ctx->options;
   SamplerOptions so = {
      .threads = false,
      .pids = o->pidCount ? o->pids : NULL,
      .pidCount = o->pidCount,
      .filterUser = o->filterUser,
      .uid = o->uid,
   };
   char err[256];
   ctx->sampler = Sampler_new(&so, err, sizeof(err));
   if (ctx->sampler)
      Sampler_setFields(ctx->sampler, Column_fields(ctx->settings.visible));
   if (!ctx->sampler || Sampler_refresh(ctx->sampler, err, sizeof(err)) != 0) {
      Util_error("cannot read the process table: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   collect(ctx);
   return 0;
}

static void initTable(MonitorContext* ctx) {
   const Settings* s = &ctx->settings;
   ProcessTable_init(&ctx->table);
   ctx->table.sortColumn = s->sortColumn;
   ctx->table.invert = s->invert;
   ctx->table.tree = s->tree;
   ctx->table.showThreads = s->showThreads;
   /* Asked for by pid: shown even when they are kernel threads. */
   ctx->table.hideKernelThreads = s->hideKernelThreads && ctx->options->pidCount == 0;
   memcpy(ctx->table.visible, s->visible, sizeof(ctx->table.visible));
   ctx->table.utf8 = ctx->screen.utf8;
   updateThreadSampling(ctx);
   rebuildTable(ctx);
}

static void run(MonitorContext* ctx) {
   double delay = ctx->settings.delayS;
   ctx->nextRefresh = Util_monotonicSeconds() + (delay < FIRST_INTERVAL_MAX_S ? delay : FIRST_INTERVAL_MAX_S);
   bool dirty = true;
   while (!ctx->quit && !Screen_stopRequested()) {
      double now = Util_monotonicSeconds();
      if (!ctx->paused && now >= ctx->nextRefresh) {
         refreshSample(ctx);
         dirty = true;
      }
      if (StackView_poll(ctx->stack) || StackView_busy(ctx->stack))
         dirty = true;
      if (ctx->statusUntil > 0 && now >= ctx->statusUntil) {
         ctx->statusUntil = 0;
         dirty = true;
      }
      if (dirty)
         draw(ctx);
      dirty = false;
      double wait = ctx->paused ? 3600.0 : ctx->nextRefresh - Util_monotonicSeconds();
      if (ctx->statusUntil > 0 && ctx->statusUntil - now < wait)
         wait = ctx->statusUntil - now;
      int timeoutMs = wait > 0 ? (int)(wait * 1000.0) + 1 : 0;
      if (StackView_busy(ctx->stack) && timeoutMs > BUSY_POLL_MS)
         timeoutMs = BUSY_POLL_MS;
      int key = Screen_getKey(&ctx->screen, timeoutMs);
      if (key == ERR)
         continue;
      dispatch(ctx, key);
      dirty = true;
   }
}

/* Saves what keys changed (see Settings.h): the table holds the current
 * sort, columns and view toggles. */
static void saveSettings(MonitorContext* ctx) {
   Settings* s = &ctx->settings;
   s->sortColumn = ctx->table.sortColumn;
   s->invert = ctx->table.invert;
   s->tree = ctx->table.tree;
   s->showThreads = ctx->table.showThreads;
   s->hideKernelThreads = ctx->table.hideKernelThreads;
   memcpy(s->visible, ctx->table.visible, sizeof(s->visible));
   char err[1200];
   if (Settings_save(s, ctx->rcPath, err, sizeof(err)) != 0)
      Util_error("%s (settings not saved)", err);
}

static void cleanup(MonitorContext* ctx) {
   StackView_free(ctx->stack); /* joins a running dump: the target is detached before we exit */
   ProcessTable_done(&ctx->table);
   Menu_done(&ctx->menu);
   Settings_done(&ctx->settings);
   free(ctx->procs);
   Sampler_free(ctx->sampler);
}

int Monitor_run(const Options* options) {
   MonitorContext* ctx = Util_xcalloc(1, sizeof(MonitorContext));
   ctx->options = options;
   Menu_init(&ctx->menu);
   loadSettings(ctx);
   int rc = loadTheme(ctx);
   if (rc == 0)
      rc = startSampler(ctx);
   char err[256];
   if (rc == 0 && Screen_init(&ctx->screen, err, sizeof(err)) != 0) {
      Util_error("%s", err);
      rc = STACKTOP_EXIT_FAILURE;
   }
   if (rc != 0) {
      if (ctx->warning[0])
         Util_error("%s", ctx->warning);
      free(ctx->procs);
      Sampler_free(ctx->sampler);
      Settings_done(&ctx->settings);
      free(ctx);
      return rc;
   }
   Theme_apply(&ctx->theme);
   ctx->stack = StackView_new();
   initTable(ctx);
   if (ctx->warning[0])
      setStatus(ctx, true, "%s", ctx->warning);
   run(ctx);
   Screen_done(&ctx->screen);
   saveSettings(ctx);
   if (ctx->warning[0])
      Util_error("%s", ctx->warning);
   cleanup(ctx);
   free(ctx);
   return STACKTOP_EXIT_OK;
}
