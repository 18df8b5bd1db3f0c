/* The interactive monitor: one MonitorContext with all UI state, a loop that
 * re-reads /proc once per delay, rebuilds rows from that cached sample on
 * keys, and blocks in getch until the next refresh is due. */
#include "stacktop/Monitor.h"

#include <curses.h>
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
} InputMode;

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
   StackView* stack; /* owned */
   MonitorView view;
   MonitorView helpReturn; /* the view help goes back to */
   InputMode input;
   char inputText[64];
   char search[64];
   bool searchFailed;
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

static void refreshSample(MonitorContext* ctx) {
   char err[256];
   if (Sampler_refresh(ctx->sampler, err, sizeof(err)) != 0)
      setStatus(ctx, true, "refresh failed: %s", err);
   collect(ctx);
   rebuildTable(ctx);
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
      StackView_scroll(ctx->stack, KeyMap_moveDelta(action, 20, (long)StackView_lineCount(ctx->stack)));
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
   rebuildTable(ctx);
}

static void actionSearch(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->input = INPUT_SEARCH;
   ctx->inputText[0] = '\0';
   ctx->searchFailed = false;
}

static void actionSearchStep(MonitorContext* ctx, KeyAction action) {
   const char* text = ctx->input == INPUT_SEARCH ? ctx->inputText : ctx->search;
   if (!text[0]) {
      setStatus(ctx, false, "no search yet: press / and type a name");
      return;
   }
   ctx->searchFailed = !ProcessTable_search(&ctx->table, text, action == ACTION_SEARCH_PREV ? -1 : 1, false);
   if (ctx->searchFailed && ctx->input == INPUT_NONE)
      setStatus(ctx, true, "no process matches '%s'", text);
}

static void actionFilter(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->input = INPUT_FILTER;
   Util_format(ctx->inputText, sizeof(ctx->inputText), "%s", ctx->table.filter);
}

static void actionThreads(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->table.showThreads = !ctx->table.showThreads;
   updateThreadSampling(ctx);
   rebuildTable(ctx);
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
   char msg[256];
   if (!StackView_start(ctx->stack, pid, comm, msg, sizeof(msg))) {
      setStatus(ctx, true, "%s", msg);
      return;
   }
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
   if (ctx->chooserOpen) {
      ctx->chooserOpen = false;
      return;
   }
   ctx->view = ctx->view == VIEW_HELP ? ctx->helpReturn : VIEW_TABLE;
   updateThreadSampling(ctx);
}

static void actionRetake(MonitorContext* ctx, KeyAction action) {
   char msg[256];
   if (!StackView_retake(ctx->stack, action == ACTION_GROUPING, msg, sizeof(msg)))
      setStatus(ctx, true, "%s", msg);
}

static void actionSave(MonitorContext* ctx, KeyAction action) {
   (void)action;
   char msg[1400];
   int rc = StackView_save(ctx->stack, msg, sizeof(msg));
   setStatus(ctx, rc != 0, "%s", msg);
}

static void actionChooserSort(MonitorContext* ctx, KeyAction action) {
   (void)action;
   ctx->chooserOpen = false;
   setSort(ctx, (ColumnId)ctx->chooser.cursor);
}

static void actionChooserToggle(MonitorContext* ctx, KeyAction action) {
   (void)action;
   if (!ColumnChooser_toggle(&ctx->chooser, ctx->table.visible))
      setStatus(ctx, true, "at least one column must stay visible");
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
   [ACTION_SAVE] = actionSave,
   [ACTION_CHOOSER_SORT] = actionChooserSort,
   [ACTION_CHOOSER_TOGGLE] = actionChooserToggle,
};

/* ---- the search / filter line */

static void applyInput(MonitorContext* ctx) {
   if (ctx->input == INPUT_SEARCH) {
      ctx->searchFailed = ctx->inputText[0] && !ProcessTable_search(&ctx->table, ctx->inputText, 1, true);
      return;
   }
   Util_format(ctx->table.filter, sizeof(ctx->table.filter), "%s", ctx->inputText);
   rebuildTable(ctx);
}

static void leaveInput(MonitorContext* ctx, bool keep) {
   if (ctx->input == INPUT_SEARCH && keep && ctx->inputText[0])
      Util_format(ctx->search, sizeof(ctx->search), "%s", ctx->inputText);
   if (ctx->input == INPUT_FILTER && !keep) {
      ctx->table.filter[0] = '\0';
      rebuildTable(ctx);
   }
   ctx->input = INPUT_NONE;
   ctx->searchFailed = false;
}

static void dispatch(MonitorContext* ctx, int key);

static void handleInputKey(MonitorContext* ctx, int key) {
   KeyAction action = KeyMap_lookup(KEYSCOPE_INPUT, key);
   size_t len = strlen(ctx->inputText);
   switch (action) {
   case ACTION_INPUT_ACCEPT: leaveInput(ctx, true); return;
   case ACTION_INPUT_CANCEL: leaveInput(ctx, false); return;
   case ACTION_INPUT_ERASE:
      if (len > 0)
         ctx->inputText[len - 1] = '\0';
      applyInput(ctx);
      return;
   case ACTION_SEARCH_NEXT: actionSearchStep(ctx, action); return;
   default: break;
   }
   if (key >= 32 && key < 127) {
      if (len + 1 < sizeof(ctx->inputText)) {
         ctx->inputText[len] = (char)key;
         ctx->inputText[len + 1] = '\0';
      }
      applyInput(ctx);
      return;
   }
   /* Any other key (arrows, function keys) ends the line and acts as usual. */
   leaveInput(ctx, true);
   dispatch(ctx, key);
}

static void dispatch(MonitorContext* ctx, int key) {
   if (key == KEY_RESIZE)
      return; /* ncurses already resized stdscr; the next draw uses the new size */
   if (ctx->input != INPUT_NONE) {
      handleInputKey(ctx, key);
      return;
   }
   KeyScope scope = ctx->chooserOpen ? KEYSCOPE_CHOOSER : viewScopes[ctx->view];
   KeyAction action = KeyMap_lookup(scope, key);
   if (handlers[action])
      handlers[action](ctx, action);
}

/* ---- drawing */

typedef struct Hint_ {
   KeyAction action;
   const char* label;
} Hint;

static const Hint tableHints[] = {
   { ACTION_HELP, "Help" },       { ACTION_SEARCH, "Search" }, { ACTION_FILTER, "Filter" },
   { ACTION_CHOOSER, "Columns" }, { ACTION_SORT_RES, "RES" },  { ACTION_SORT_CPU, "CPU" },
   { ACTION_THREADS, "Threads" }, { ACTION_DETAIL, "Detail" }, { ACTION_STACK, "Stacks" },
   { ACTION_QUIT, "Quit" },
};

static const Hint detailHints[] = {
   { ACTION_STACK, "Stacks" },
   { ACTION_HELP, "Help" },
   { ACTION_BACK, "Back" },
   { ACTION_QUIT, "Quit" },
};

static const Hint stackHints[] = {
   { ACTION_RETAKE, "Re-take" }, { ACTION_GROUPING, "Grouping" }, { ACTION_SAVE, "Save" },
   { ACTION_BACK, "Back" },      { ACTION_HELP, "Help" },
};

static const Hint helpHints[] = {
   { ACTION_BACK, "Back" },
};

typedef struct HintSet_ {
   const Hint* hints;
   size_t count;
} HintSet;

static const HintSet viewHints[VIEW_COUNT] = {
   [VIEW_TABLE] = { tableHints, sizeof(tableHints) / sizeof(tableHints[0]) },
   [VIEW_DETAIL] = { detailHints, sizeof(detailHints) / sizeof(detailHints[0]) },
   [VIEW_STACK] = { stackHints, sizeof(stackHints) / sizeof(stackHints[0]) },
   [VIEW_HELP] = { helpHints, sizeof(helpHints) / sizeof(helpHints[0]) },
};

static void drawHints(const MonitorContext* ctx, int y, int width) {
   const HintSet* set = &viewHints[ctx->view];
   KeyScope scope = viewScopes[ctx->view];
   int x = 0;
   for (size_t i = 0; i < set->count && x < width; i++) {
      char keys[64];
      KeyMap_keyNames(scope, set->hints[i].action, keys, sizeof(keys));
      char* space = strchr(keys, ' ');
      if (space)
         *space = '\0'; /* the first key is enough here; ? lists them all */
      x += Draw_text(y, x, keys, width - x, Theme_attr(&ctx->theme, STYLE_STATUS_KEY));
      char label[32];
      Util_format(label, sizeof(label), " %s  ", set->hints[i].label);
      x += Draw_text(y, x, label, width - x, Theme_attr(&ctx->theme, STYLE_STATUS));
   }
   if (ctx->view != VIEW_TABLE)
      return;
   char state[160];
   Util_format(state, sizeof(state), "sort %s %s%s%s%s%s", Column_get(ctx->table.sortColumn)->header,
               ProcessTable_descending(&ctx->table) ? "desc" : "asc", ctx->table.filter[0] ? "  filter '" : "",
               ctx->table.filter, ctx->table.filter[0] ? "'" : "", ctx->table.showThreads ? "  threads" : "");
   int cells = Draw_cells(state);
   if (x + cells + 1 < width)
      Draw_text(y, width - cells - 1, state, cells, Theme_attr(&ctx->theme, STYLE_STATUS));
}

static void drawStatus(const MonitorContext* ctx, int y, int width) {
   const Theme* theme = &ctx->theme;
   Draw_fill(y, 0, width, Theme_attr(theme, STYLE_STATUS));
   if (ctx->input != INPUT_NONE) {
      char line[160];
      Util_format(line, sizeof(line), "%s: %s_", ctx->input == INPUT_SEARCH ? "Search" : "Filter", ctx->inputText);
      int x = Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_STATUS_KEY));
      const char* tail = ctx->searchFailed ? "   (no match)" : "   Enter keeps, Esc cancels";
      Draw_text(y, x, tail, width - x, Theme_attr(theme, ctx->searchFailed ? STYLE_ERROR : STYLE_STATUS));
      return;
   }
   if (ctx->statusUntil > 0) {
      Draw_text(y, 0, ctx->status, width, Theme_attr(theme, ctx->statusError ? STYLE_ERROR : STYLE_STATUS));
      return;
   }
   drawHints(ctx, y, width);
}

static void drawBody(MonitorContext* ctx, int y, int height, int width) {
   switch (ctx->view) {
   case VIEW_TABLE:
      ProcessTable_draw(&ctx->table, &ctx->theme, y, height, width);
      if (ctx->chooserOpen)
         ColumnChooser_draw(&ctx->chooser, ctx->table.visible, ctx->table.sortColumn, &ctx->theme, y + 1, height - 1,
                            width);
      break;
   case VIEW_DETAIL:
      DetailView_draw(&ctx->detail, Sampler_find(ctx->sampler, ctx->detail.pid), &ctx->theme, y, height, width);
      break;
   case VIEW_STACK: {
      /* Keep a slice of the live table above the dump: the monitor goes on. */
      int tableRows = height >= 24 ? height / 3 : 0;
      if (tableRows)
         ProcessTable_draw(&ctx->table, &ctx->theme, y, tableRows, width);
      StackView_draw(ctx->stack, &ctx->theme, y + tableRows, height - tableRows, width);
      break;
   }
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

/* Settings from the rc file, then the command line. */
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
   if (!ctx->sampler || Sampler_refresh(ctx->sampler, err, sizeof(err)) != 0) {
      Util_error("cannot read the process table: %s", err);
      return STACKTOP_EXIT_FAILURE;
   }
   collect(ctx);
   return 0;
}

static void initTable(MonitorContext* ctx) {
   ProcessTable_init(&ctx->table);
   ctx->table.sortColumn = ctx->settings.sortColumn;
   ctx->table.invert = ctx->settings.invert;
   memcpy(ctx->table.visible, ctx->settings.visible, sizeof(ctx->table.visible));
   ctx->table.utf8 = ctx->screen.utf8;
   rebuildTable(ctx);
}

static void run(MonitorContext* ctx) {
   double delay = ctx->settings.delayS;
   ctx->nextRefresh = Util_monotonicSeconds() + (delay < FIRST_INTERVAL_MAX_S ? delay : FIRST_INTERVAL_MAX_S);
   bool dirty = true;
   while (!ctx->quit && !Screen_stopRequested()) {
      double now = Util_monotonicSeconds();
      if (now >= ctx->nextRefresh) {
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
      double wait = ctx->nextRefresh - Util_monotonicSeconds();
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

static void saveSettings(MonitorContext* ctx) {
   Settings* s = &ctx->settings;
   s->sortColumn = ctx->table.sortColumn;
   s->invert = ctx->table.invert;
   memcpy(s->visible, ctx->table.visible, sizeof(s->visible));
   char err[1200];
   if (Settings_save(s, ctx->rcPath, err, sizeof(err)) != 0)
      Util_error("%s (settings not saved)", err);
}

static void cleanup(MonitorContext* ctx) {
   StackView_free(ctx->stack); /* joins a running dump: the target is detached before we exit */
   ProcessTable_done(&ctx->table);
   free(ctx->procs);
   Sampler_free(ctx->sampler);
}

int Monitor_run(const Options* options) {
   MonitorContext ctx;
   memset(&ctx, 0, sizeof(ctx));
   ctx.options = options;
   loadSettings(&ctx);
   int rc = loadTheme(&ctx);
   if (rc == 0)
      rc = startSampler(&ctx);
   char err[256];
   if (rc == 0 && Screen_init(&ctx.screen, err, sizeof(err)) != 0) {
      Util_error("%s", err);
      rc = STACKTOP_EXIT_FAILURE;
   }
   if (rc != 0) {
      if (ctx.warning[0])
         Util_error("%s", ctx.warning);
      free(ctx.procs);
      Sampler_free(ctx.sampler);
      return rc;
   }
   Theme_apply(&ctx.theme);
   ctx.stack = StackView_new();
   initTable(&ctx);
   if (ctx.warning[0])
      setStatus(&ctx, true, "%s", ctx.warning);
   run(&ctx);
   Screen_done(&ctx.screen);
   saveSettings(&ctx);
   if (ctx.warning[0])
      Util_error("%s", ctx.warning);
   cleanup(&ctx);
   return STACKTOP_EXIT_OK;
}
