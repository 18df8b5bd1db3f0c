/* Stack view: background dumps, the group navigator, saving. */
#include "stacktop/StackView.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/Draw.h"
#include "stacktop/ProcessControl.h"
#include "stacktop/Util.h"

#define INDENT 6 /* cells before a member or frame line */

typedef enum StackState_ {
   STACK_EMPTY,
   STACK_RUNNING,
   STACK_DONE,
   STACK_FAILED,
} StackState;

/* Whether the dumped process is still the one with the pid. */
typedef enum ProcessState_ {
   PROCESS_ALIVE,
   PROCESS_EXITED,
   PROCESS_REUSED,
} ProcessState;

/* What one dump produced; written by the worker, read by the UI only after
 * the worker was joined, so it needs no lock. */
typedef struct StackJob_ {
   pid_t pid;
   unsigned long long startTicks;
   DumpGroupBy groupBy;
   DumpError error;
   char message[256];
   char* text; /* Dump_write output (owned) */
   size_t textLen;
   StackModel* model; /* owned */
   size_t totalThreads, groupCount;
   double stoppedMs, totalMs;
} StackJob;

typedef enum RowKind_ {
   ROW_SECTION,
   ROW_GROUP,
   ROW_MEMBERS,
   ROW_FRAME,
   ROW_NOTE, /* frame: the note's index */
} RowKind;

/* One line of the navigator. */
typedef struct StackRow_ {
   RowKind kind;
   size_t section, group, frame; /* group: index in the section */
} StackRow;

struct StackView_ {
   pthread_t worker;
   bool workerStarted; /* a thread exists that must be joined */
   pthread_mutex_t lock;
   bool workerFinished; /* under lock: the worker is about to exit */
   StackJob job;        /* the worker's, until joined */
   StackState state;
   pid_t pid;
   unsigned long long startTicks;
   ProcessState process;
   char comm[16];
   DumpGroupBy groupBy;
   double startedAt;
   char takenAt[16]; /* HH:MM:SS of the shown dump */
   char* text;       /* the shown dump as text (owned), for saving */
   size_t textLen;
   StackModel* model; /* the shown dump (owned) */
   size_t shown;      /* the section on screen: a Go process's goroutines or its threads */
   bool** expanded;   /* per section, per group (owned) */
   StackRow* rows;    /* the lines as laid out now (owned) */
   size_t rowCount, rowCapacity;
   size_t cursor, scroll;
   /* The group the last search step opened (it was closed before), so the
    * next step can close it again: typing a search does not leave every
    * partial match open. */
   bool searchOpened;
   size_t searchSection, searchGroup;
   int hscroll;
   int pageRows;
   int drawnY; /* screen line of rows[scroll] in the last draw, -1 before */
   char message[256];
   char timing[160];
};

StackView* StackView_new(void) {
   StackView* this = Util_xcalloc(1, sizeof(*this));
   pthread_mutex_init(&this->lock, NULL);
   this->pageRows = 10;
   this->drawnY = -1;
   return this;
}

static void join(StackView* this) {
   if (!this->workerStarted)
      return;
   pthread_join(this->worker, NULL);
   this->workerStarted = false;
}

static void freeExpanded(StackView* this) {
   if (this->expanded && this->model) {
      for (size_t s = 0; s < this->model->sectionCount; s++)
         free(this->expanded[s]);
   }
   free(this->expanded);
   this->expanded = NULL;
}

void StackView_free(StackView* this) {
   if (!this)
      return;
   join(this);
   free(this->job.text);
   StackModel_free(this->job.model);
   freeExpanded(this);
   StackModel_free(this->model);
   free(this->text);
   free(this->rows);
   pthread_mutex_destroy(&this->lock);
   free(this);
}

/* ---- the worker */

static void formatDump(StackJob* job, const DumpResult* result) {
   FILE* out = open_memstream(&job->text, &job->textLen);
   if (!out || Dump_write(result, DUMP_FORMAT_TEXT, out) != 0) {
      job->error = DUMP_ERR_INTERNAL;
      Util_format(job->message, sizeof(job->message), "cannot format the stack dump of %d: %s", (int)job->pid,
                  strerror(errno));
   }
   if (out)
      fclose(out);
   job->model = StackModel_fromDump(result);
   job->totalThreads = result->totalThreads;
   job->groupCount = result->groupCount;
   job->stoppedMs = result->stoppedMs;
   job->totalMs = result->totalMs;
}

static void* workerMain(void* arg) {
   StackView* this = arg;
   StackJob* job = &this->job;
   DumpOptions options;
   DumpOptions_init(&options);
   options.groupBy = job->groupBy;
   DumpResult* result = NULL;
   /* The pid is checked against the expected start time on both sides of
    * the dump, so a pid reused meanwhile never shows under the old title. */
   if (ProcessControl_startTicks(job->pid) != job->startTicks) {
      job->error = DUMP_ERR_NO_PROCESS;
      Util_format(job->message, sizeof(job->message), "process %d has exited (or its pid names another process now)",
                  (int)job->pid);
   } else {
      job->error = Dump_take(job->pid, &options, &result, job->message, sizeof(job->message));
   }
   if (job->error == DUMP_OK && result && ProcessControl_startTicks(job->pid) != job->startTicks) {
      job->error = DUMP_ERR_NO_PROCESS;
      Util_format(job->message, sizeof(job->message), "process %d exited during the stack dump", (int)job->pid);
   } else if (job->error == DUMP_OK && result) {
      formatDump(job, result);
   } else if (job->error == DUMP_OK) {
      job->error = DUMP_ERR_INTERNAL;
      Util_format(job->message, sizeof(job->message), "stack dump of %d returned nothing", (int)job->pid);
   }
   Dump_free(result);
   pthread_mutex_lock(&this->lock);
   this->workerFinished = true;
   pthread_mutex_unlock(&this->lock);
   return NULL;
}

static bool launch(StackView* this, char* msg, size_t msgSize) {
   if (this->workerStarted) {
      Util_format(msg, msgSize, "a stack dump of %d is still running", (int)this->job.pid);
      return false;
   }
   free(this->job.text);
   StackModel_free(this->job.model);
   memset(&this->job, 0, sizeof(this->job));
   this->job.pid = this->pid;
   this->job.startTicks = this->startTicks;
   this->job.groupBy = this->groupBy;
   this->workerFinished = false;
   /* Terminal signals belong to the UI thread, which restores the screen:
    * the worker inherits a mask that blocks them. */
   sigset_t block, old;
   sigemptyset(&block);
   sigaddset(&block, SIGINT);
   sigaddset(&block, SIGTERM);
   sigaddset(&block, SIGHUP);
   sigaddset(&block, SIGQUIT);
   sigaddset(&block, SIGWINCH);
   pthread_sigmask(SIG_BLOCK, &block, &old);
   int rc = pthread_create(&this->worker, NULL, workerMain, this);
   pthread_sigmask(SIG_SETMASK, &old, NULL);
   if (rc != 0) {
      Util_format(msg, msgSize, "cannot start the stack dump thread: %s", strerror(rc));
      return false;
   }
   this->workerStarted = true;
   this->state = STACK_RUNNING;
   this->startedAt = Util_monotonicSeconds();
   this->message[0] = '\0';
   return true;
}

static void clearShown(StackView* this) {
   freeExpanded(this);
   StackModel_free(this->model);
   this->model = NULL;
   free(this->text);
   this->text = NULL;
   this->textLen = 0;
   this->rowCount = 0;
   this->cursor = this->scroll = 0;
   this->hscroll = 0;
   this->timing[0] = '\0';
}

bool StackView_start(StackView* this, pid_t pid, unsigned long long startTicks, const char* comm, char* msg,
                     size_t msgSize) {
   if (this->workerStarted) {
      Util_format(msg, msgSize, "a stack dump of %d is still running", (int)this->job.pid);
      return false;
   }
   this->pid = pid;
   this->startTicks = startTicks;
   this->process = PROCESS_ALIVE;
   Util_format(this->comm, sizeof(this->comm), "%s", comm);
   clearShown(this);
   return launch(this, msg, msgSize);
}

static void describeGone(const StackView* this, ProcessState state, char* msg, size_t msgSize) {
   if (state == PROCESS_EXITED)
      Util_format(msg, msgSize, "process %d has exited: nothing to re-take", (int)this->pid);
   else
      Util_format(msg, msgSize, "pid %d now names another process: not re-taking (open it from the table with s)",
                  (int)this->pid);
}

static ProcessState stateFor(const StackView* this, unsigned long long currentStartTicks) {
   if (currentStartTicks == 0)
      return PROCESS_EXITED;
   return currentStartTicks == this->startTicks ? PROCESS_ALIVE : PROCESS_REUSED;
}

bool StackView_retake(StackView* this, bool switchGrouping, unsigned long long currentStartTicks, char* msg,
                      size_t msgSize) {
   if (this->pid <= 0)
      return false;
   if (this->workerStarted) {
      Util_format(msg, msgSize, "a stack dump of %d is still running", (int)this->job.pid);
      return false;
   }
   ProcessState state = stateFor(this, currentStartTicks);
   if (state != PROCESS_ALIVE) {
      this->process = state;
      describeGone(this, state, msg, msgSize);
      return false;
   }
   if (switchGrouping)
      this->groupBy = this->groupBy == DUMP_GROUP_PC ? DUMP_GROUP_FUNCTION : DUMP_GROUP_PC;
   return launch(this, msg, msgSize);
}

bool StackView_busy(StackView* this) {
   return this->workerStarted;
}

pid_t StackView_pid(const StackView* this) {
   return this->pid;
}

bool StackView_setCurrentProcess(StackView* this, unsigned long long currentStartTicks) {
   ProcessState state = stateFor(this, currentStartTicks);
   /* Once gone, a process does not come back. */
   if (this->process != PROCESS_ALIVE || state == this->process)
      return false;
   this->process = state;
   return true;
}

/* ---- rows */

static void addRow(StackView* this, RowKind kind, size_t s, size_t g, size_t f) {
   Util_growArray((void**)&this->rows, &this->rowCapacity, this->rowCount, sizeof(StackRow));
   this->rows[this->rowCount++] = (StackRow){ .kind = kind, .section = s, .group = g, .frame = f };
}

/* Only the shown section is laid out: one kind of stacks at a time. */
static void layoutRows(StackView* this) {
   this->rowCount = 0;
   if (!this->model || this->shown >= this->model->sectionCount)
      return;
   size_t s = this->shown;
   const StackSection* section = &this->model->sections[s];
   addRow(this, ROW_SECTION, s, 0, 0);
   for (size_t g = 0; g < section->groupCount; g++) {
      addRow(this, ROW_GROUP, s, g, 0);
      if (!this->expanded[s][g])
         continue;
      addRow(this, ROW_MEMBERS, s, g, 0);
      for (size_t f = 0; f < section->groups[g].frameCount; f++)
         addRow(this, ROW_FRAME, s, g, f);
   }
   for (size_t n = 0; n < section->noteCount; n++)
      addRow(this, ROW_NOTE, s, 0, n);
   if (this->cursor >= this->rowCount)
      this->cursor = this->rowCount ? this->rowCount - 1 : 0;
}

/* The row of group (s, g) in the current layout. */
static size_t groupRow(const StackView* this, size_t s, size_t g) {
   for (size_t i = 0; i < this->rowCount; i++) {
      const StackRow* r = &this->rows[i];
      if (r->kind == ROW_GROUP && r->section == s && r->group == g)
         return i;
   }
   return 0;
}

static void ensureVisible(StackView* this) {
   size_t page = this->pageRows > 0 ? (size_t)this->pageRows : 1;
   if (this->cursor < this->scroll)
      this->scroll = this->cursor;
   else if (this->cursor >= this->scroll + page)
      this->scroll = this->cursor - page + 1;
   size_t maxScroll = this->rowCount > page ? this->rowCount - page : 0;
   if (this->scroll > maxScroll)
      this->scroll = maxScroll;
}

/* Takes the worker's model. The first dump opens collapsed; a re-take keeps
 * the cursor on the same line number as far as it exists. */
static void adoptModel(StackView* this) {
   size_t wasShown = this->shown;
   StackSectionKind kind = this->model && wasShown < this->model->sectionCount ? this->model->sections[wasShown].kind
                                                                               : STACK_SECTION_GOROUTINES;
   freeExpanded(this);
   StackModel_free(this->model);
   this->model = this->job.model;
   this->job.model = NULL;
   this->searchOpened = false;
   /* A re-take stays on the same kind of stacks; the first dump of a Go
    * process opens on its goroutines (they come first). */
   this->shown = 0;
   for (size_t s = 0; s < this->model->sectionCount; s++) {
      if (this->model->sections[s].kind == kind)
         this->shown = s;
   }
   this->expanded = Util_xcalloc(this->model->sectionCount + 1, sizeof(bool*));
   for (size_t s = 0; s < this->model->sectionCount; s++)
      this->expanded[s] = Util_xcalloc(this->model->sections[s].groupCount + 1, sizeof(bool));
   layoutRows(this);
   if (this->cursor == 0 && this->rowCount > 1)
      this->cursor = 1; /* the first group, not the section title */
   ensureVisible(this);
}

bool StackView_poll(StackView* this) {
   if (!this->workerStarted)
      return false;
   pthread_mutex_lock(&this->lock);
   bool finished = this->workerFinished;
   pthread_mutex_unlock(&this->lock);
   if (!finished)
      return false;
   join(this);
   if (this->job.error != DUMP_OK) {
      /* Keep the previous dump (if any) visible under the error. */
      this->state = STACK_FAILED;
      Util_format(this->message, sizeof(this->message), "%s", this->job.message);
      return true;
   }
   free(this->text);
   this->text = this->job.text;
   this->textLen = this->job.textLen;
   this->job.text = NULL;
   adoptModel(this);
   this->state = STACK_DONE;
   time_t now = time(NULL);
   struct tm tm;
   localtime_r(&now, &tm);
   strftime(this->takenAt, sizeof(this->takenAt), "%H:%M:%S", &tm);
   Util_format(this->timing, sizeof(this->timing),
               "%zu threads in %zu groups, grouped by %s; target stopped %.1f ms, dump took %.1f ms (at %s)",
               this->job.totalThreads, this->job.groupCount, this->job.groupBy == DUMP_GROUP_PC ? "pc" : "function",
               this->job.stoppedMs, this->job.totalMs, this->takenAt);
   return true;
}

/* ---- navigation */

size_t StackView_rowCount(const StackView* this) {
   return this->rowCount;
}

long StackView_pageRows(const StackView* this) {
   return this->pageRows > 1 ? this->pageRows : 1;
}

void StackView_move(StackView* this, long delta) {
   if (this->rowCount == 0)
      return;
   long target = (long)this->cursor + delta;
   if (target < 0)
      target = 0;
   if (target >= (long)this->rowCount)
      target = (long)this->rowCount - 1;
   this->cursor = (size_t)target;
   /* A page moves the view with the cursor, so no line is skipped or shown twice. */
   if (delta > 1 || delta < -1) {
      long top = (long)this->scroll + delta;
      this->scroll = top < 0 ? 0 : (size_t)top;
   }
   ensureVisible(this);
}

static const StackRow* cursorRow(const StackView* this) {
   return this->cursor < this->rowCount ? &this->rows[this->cursor] : NULL;
}

/* A line that belongs to a group (its own, its members, its frames). */
static bool inGroup(const StackRow* r) {
   return r && (r->kind == ROW_GROUP || r->kind == ROW_MEMBERS || r->kind == ROW_FRAME);
}

static void setGroupExpanded(StackView* this, size_t s, size_t g, bool expanded) {
   this->searchOpened = false; /* the user decides from here on */
   this->expanded[s][g] = expanded;
   layoutRows(this);
   this->cursor = groupRow(this, s, g);
   ensureVisible(this);
}

void StackView_setExpanded(StackView* this, bool expanded) {
   const StackRow* r = cursorRow(this);
   if (inGroup(r))
      setGroupExpanded(this, r->section, r->group, expanded);
}

void StackView_toggleGroup(StackView* this) {
   const StackRow* r = cursorRow(this);
   if (inGroup(r))
      setGroupExpanded(this, r->section, r->group, !this->expanded[r->section][r->group]);
}

void StackView_toggleAll(StackView* this) {
   if (!this->model)
      return;
   bool all = true;
   for (size_t s = 0; s < this->model->sectionCount; s++) {
      for (size_t g = 0; g < this->model->sections[s].groupCount; g++)
         all = all && this->expanded[s][g];
   }
   this->searchOpened = false;
   const StackRow* r = cursorRow(this);
   size_t s0 = r ? r->section : 0, g0 = r ? r->group : 0;
   bool onGroup = inGroup(r);
   for (size_t s = 0; s < this->model->sectionCount; s++) {
      for (size_t g = 0; g < this->model->sections[s].groupCount; g++)
         this->expanded[s][g] = !all;
   }
   layoutRows(this);
   if (onGroup)
      this->cursor = groupRow(this, s0, g0);
   ensureVisible(this);
}

void StackView_jumpGroup(StackView* this, int direction) {
   if (this->rowCount == 0)
      return;
   size_t i = this->cursor;
   for (;;) {
      if (direction > 0 ? i + 1 >= this->rowCount : i == 0)
         return; /* no group that way: stay */
      i = direction > 0 ? i + 1 : i - 1;
      if (this->rows[i].kind == ROW_GROUP)
         break;
   }
   this->cursor = i;
   ensureVisible(this);
}

/* The first line of group (s, g) that matches, once it is expanded. */
static size_t matchingRow(const StackView* this, size_t s, size_t g, const char* text) {
   size_t row = groupRow(this, s, g);
   const StackGroup* group = &this->model->sections[s].groups[g];
   if (strcasestr(group->top, text))
      return row;
   if (strcasestr(group->members, text))
      return row + 1;
   for (size_t f = 0; f < group->frameCount; f++) {
      if (strcasestr(group->frames[f], text))
         return row + 2 + f;
   }
   return row;
}

bool StackView_search(StackView* this, const char* text, int direction, bool includeCurrent) {
   if (!this->model || !text[0])
      return false;
   /* Every group in one sequence, starting at the cursor's. */
   size_t total = 0, current = 0;
   const StackRow* r = cursorRow(this);
   for (size_t s = 0; s < this->model->sectionCount; s++) {
      if (r && s == r->section)
         current = total + (inGroup(r) ? r->group : 0);
      total += this->model->sections[s].groupCount;
   }
   for (size_t step = includeCurrent ? 0 : 1; total && step <= total; step++) {
      size_t k = direction >= 0 ? (current + step) % total : (current + total * 2 - step) % total;
      size_t s = 0;
      while (k >= this->model->sections[s].groupCount)
         k -= this->model->sections[s++].groupCount;
      if (!StackModel_groupMatches(&this->model->sections[s].groups[k], text))
         continue;
      bool same = this->searchOpened && this->searchSection == s && this->searchGroup == k;
      if (this->searchOpened && !same)
         this->expanded[this->searchSection][this->searchGroup] = false;
      if (!same) {
         this->searchOpened = !this->expanded[s][k];
         this->searchSection = s;
         this->searchGroup = k;
      }
      this->expanded[s][k] = true;
      this->shown = s; /* a match among the other kind of stacks shows them */
      layoutRows(this);
      this->cursor = matchingRow(this, s, k, text);
      ensureVisible(this);
      return true;
   }
   return false;
}

void StackView_endSearch(StackView* this, bool keep) {
   if (this->searchOpened && !keep && this->model) {
      this->expanded[this->searchSection][this->searchGroup] = false;
      layoutRows(this);
      this->cursor = groupRow(this, this->searchSection, this->searchGroup);
      ensureVisible(this);
   }
   this->searchOpened = false;
}

bool StackView_switchPart(StackView* this, char* msg, size_t msgSize) {
   if (!this->model || this->model->sectionCount < 2) {
      Util_format(msg, msgSize, "%d (%s) is not a Go program: it has threads only", (int)this->pid, this->comm);
      return false;
   }
   this->shown = (this->shown + 1) % this->model->sectionCount;
   this->searchOpened = false;
   layoutRows(this);
   this->cursor = this->rowCount > 1 ? 1 : 0;
   this->scroll = 0;
   ensureVisible(this);
   return true;
}

void StackView_scrollH(StackView* this, int delta) {
   this->hscroll += delta;
   if (this->hscroll < 0)
      this->hscroll = 0;
}

bool StackView_selectAt(StackView* this, int y) {
   if (this->drawnY < 0 || y < this->drawnY || y >= this->drawnY + this->pageRows)
      return false;
   size_t index = this->scroll + (size_t)(y - this->drawnY);
   if (index >= this->rowCount)
      return false;
   this->cursor = index;
   return true;
}

/* ---- saving */

int StackView_save(StackView* this, char* msg, size_t msgSize) {
   if (!this->text || this->textLen == 0) {
      Util_format(msg, msgSize, "no stack dump to save yet");
      return -1;
   }
   char stamp[32], name[96], cwd[1024];
   time_t now = time(NULL);
   struct tm tm;
   localtime_r(&now, &tm);
   strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
   Util_format(name, sizeof(name), "stacktop-%d-%s.txt", (int)this->pid, stamp);
   if (!getcwd(cwd, sizeof(cwd)))
      Util_format(cwd, sizeof(cwd), ".");
   char path[1200];
   Util_format(path, sizeof(path), "%s/%s", cwd, name);
   /* The name is predictable and the directory may be shared (/tmp): never
    * follow or reuse what is there, and keep a process's internals private. */
   FILE* out = Util_openPrivate(path, O_EXCL);
   if (!out) {
      Util_format(msg, msgSize, "cannot save the stack dump to %s: %s", path, strerror(errno));
      return -1;
   }
   size_t written = fwrite(this->text, 1, this->textLen, out);
   if (fclose(out) != 0 || written != this->textLen) {
      Util_format(msg, msgSize, "cannot write the stack dump to %s: %s", path, strerror(errno));
      return -1;
   }
   Util_format(msg, msgSize, "saved the stack dump to %s", path);
   return 0;
}

const char* StackView_text(const StackView* this) {
   return this->text ? this->text : "";
}

const StackModel* StackView_model(const StackView* this) {
   return this->model;
}

/* ---- drawing */

/* Widest state mix of a section, so the top functions line up. */
static int statesWidth(const StackSection* section) {
   int w = 0;
   for (size_t g = 0; g < section->groupCount; g++) {
      int c = Draw_cells(section->groups[g].states);
      w = c > w ? c : w;
   }
   return w;
}

static void formatRow(const StackView* this, const StackRow* r, char* buf, size_t size, ThemeStyle* style) {
   const StackSection* section = &this->model->sections[r->section];
   const StackGroup* g = section->groupCount ? &section->groups[r->group] : NULL;
   bool groupRow = r->kind == ROW_GROUP || r->kind == ROW_MEMBERS || r->kind == ROW_FRAME;
   if (groupRow && !g) { /* rows of a group exist only in sections that have groups */
      buf[0] = '\0';
      *style = STYLE_TEXT;
      return;
   }
   switch (r->kind) {
   case ROW_SECTION:
      Util_format(buf, size, "%s (%zu group%s)", section->title, section->groupCount,
                  section->groupCount == 1 ? "" : "s");
      *style = STYLE_TITLE;
      return;
   case ROW_GROUP: {
      const char* marker = this->expanded[r->section][r->group] ? "-" : "+";
      /* Padded by cells, not bytes: the state mix has a multi-byte "×". */
      int pad = statesWidth(section) - Draw_cells(g->states);
      Util_format(buf, size, "%s %6zu  %s%*s  %s", marker, g->count, g->states, pad > 0 ? pad : 0, "", g->top);
      *style = STYLE_VALUE;
      return;
   }
   case ROW_MEMBERS:
      Util_format(buf, size, "%*s%s", INDENT, "", g->members);
      *style = STYLE_INACTIVE;
      return;
   case ROW_FRAME:
      Util_format(buf, size, "%*s%s", INDENT, "", g->frames[r->frame]);
      *style = STYLE_TEXT;
      return;
   case ROW_NOTE:
      Util_format(buf, size, "# %s", section->notes[r->frame]);
      *style = STYLE_INACTIVE;
      return;
   }
}

/* Scrolling right stops once the longest line on screen ends at the right edge. */
static void clampScroll(StackView* this, int width) {
   int widest = 0;
   for (int i = 0; i < this->pageRows && this->scroll + (size_t)i < this->rowCount; i++) {
      char line[1600];
      ThemeStyle style;
      formatRow(this, &this->rows[this->scroll + (size_t)i], line, sizeof(line), &style);
      int cells = Draw_cells(line);
      widest = cells > widest ? cells : widest;
   }
   int most = widest - width > 0 ? widest - width : 0;
   if (this->hscroll > most)
      this->hscroll = most;
}

static void drawRows(StackView* this, const Theme* theme, int y, int height, int width) {
   this->pageRows = height > 0 ? height : 1;
   this->drawnY = y;
   ensureVisible(this);
   if (this->hscroll > 0)
      clampScroll(this, width);
   for (int i = 0; i < height && this->scroll + (size_t)i < this->rowCount; i++) {
      size_t index = this->scroll + (size_t)i;
      char line[1600];
      ThemeStyle style = STYLE_TEXT;
      formatRow(this, &this->rows[index], line, sizeof(line), &style);
      int attr = Theme_attr(theme, index == this->cursor ? STYLE_SELECTED : style);
      if (index == this->cursor)
         Draw_fill(y + i, 0, width, attr);
      Draw_textFrom(y + i, 0, line, this->hscroll, width, attr);
   }
}

static void drawBanner(const StackView* this, const Theme* theme, int y, int width) {
   char line[256];
   if (this->process == PROCESS_EXITED)
      Util_format(line, sizeof(line), "process %d has exited; this dump was taken at %s", (int)this->pid,
                  this->takenAt[0] ? this->takenAt : "-");
   else
      Util_format(line, sizeof(line), "pid %d now names another process; this dump (taken at %s) is of the old one",
                  (int)this->pid, this->takenAt[0] ? this->takenAt : "-");
   Draw_text(y, 0, line, width, Theme_attr(theme, STYLE_ERROR));
}

void StackView_draw(StackView* this, const Theme* theme, int y, int height, int width) {
   char title[160];
   bool goroutines = this->model && this->shown < this->model->sectionCount &&
                     this->model->sections[this->shown].kind == STACK_SECTION_GOROUTINES;
   bool two = this->model && this->model->sectionCount > 1;
   Util_format(title, sizeof(title), "%s of %d (%s), grouped by %s%s", goroutines ? "Goroutines" : "Stacks",
               (int)this->pid, this->comm,
               goroutines                       ? "Go's profile"
               : this->groupBy == DUMP_GROUP_PC ? "pc"
                                                : "function",
               two ? (goroutines ? "  (t: threads)" : "  (t: goroutines)") : "");
   Draw_fill(y, 0, width, Theme_attr(theme, STYLE_HEADER));
   Draw_text(y, 0, title, width, Theme_attr(theme, STYLE_HEADER));
   int row = y + 1;
   if (this->state == STACK_RUNNING) {
      char wait[96];
      Util_format(wait, sizeof(wait), "taking stack dump of %d... (%.1f s)", (int)this->pid,
                  Util_monotonicSeconds() - this->startedAt);
      Draw_text(row++, 0, wait, width, Theme_attr(theme, STYLE_SEARCH));
   } else if (this->state == STACK_FAILED) {
      Draw_text(row++, 0, this->message, width, Theme_attr(theme, STYLE_ERROR));
   } else if (this->timing[0]) {
      Draw_text(row++, 0, this->timing, width, Theme_attr(theme, STYLE_INACTIVE));
   }
   if (this->process != PROCESS_ALIVE)
      drawBanner(this, theme, row++, width);
   drawRows(this, theme, row, y + height - row, width);
}
