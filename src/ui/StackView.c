/* Stack view: background dumps, scrolling, saving. */
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
#include "stacktop/Util.h"

typedef enum StackState_ {
   STACK_EMPTY,
   STACK_RUNNING,
   STACK_DONE,
   STACK_FAILED,
} StackState;

/* What one dump produced; written by the worker, read by the UI only after
 * the worker was joined, so it needs no lock. */
typedef struct StackJob_ {
   pid_t pid;
   DumpGroupBy groupBy;
   DumpError error;
   char message[256];
   char* text; /* Dump_write output (owned) */
   size_t textLen;
   size_t totalThreads, groupCount;
   double stoppedMs, totalMs;
} StackJob;

struct StackView_ {
   pthread_t worker;
   bool workerStarted; /* a thread exists that must be joined */
   pthread_mutex_t lock;
   bool workerFinished; /* under lock: the worker is about to exit */
   StackJob job;        /* the worker's, until joined */
   StackState state;
   pid_t pid;
   char comm[16];
   DumpGroupBy groupBy;
   double startedAt;
   char* text; /* the shown dump (owned) */
   size_t textLen;
   size_t* lineStarts; /* offsets of every line in text (owned) */
   size_t lineCount, lineCapacity;
   size_t scroll;
   int pageRows;
   char message[256]; /* error of a failed dump */
   char timing[160];
};

StackView* StackView_new(void) {
   StackView* this = Util_xcalloc(1, sizeof(*this));
   pthread_mutex_init(&this->lock, NULL);
   this->pageRows = 10;
   return this;
}

static void join(StackView* this) {
   if (!this->workerStarted)
      return;
   pthread_join(this->worker, NULL);
   this->workerStarted = false;
}

void StackView_free(StackView* this) {
   if (!this)
      return;
   join(this);
   free(this->job.text);
   free(this->text);
   free(this->lineStarts);
   pthread_mutex_destroy(&this->lock);
   free(this);
}

static void* workerMain(void* arg) {
   StackView* this = arg;
   StackJob* job = &this->job;
   DumpOptions options;
   DumpOptions_init(&options);
   options.groupBy = job->groupBy;
   DumpResult* result = NULL;
   job->error = Dump_take(job->pid, &options, &result, job->message, sizeof(job->message));
   if (job->error == DUMP_OK && result) {
      FILE* out = open_memstream(&job->text, &job->textLen);
      if (!out || Dump_write(result, DUMP_FORMAT_TEXT, out) != 0) {
         job->error = DUMP_ERR_INTERNAL;
         Util_format(job->message, sizeof(job->message), "cannot format the stack dump of %d: %s", (int)job->pid,
                     strerror(errno));
      }
      if (out)
         fclose(out);
      job->totalThreads = result->totalThreads;
      job->groupCount = result->groupCount;
      job->stoppedMs = result->stoppedMs;
      job->totalMs = result->totalMs;
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
   memset(&this->job, 0, sizeof(this->job));
   this->job.pid = this->pid;
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

bool StackView_start(StackView* this, pid_t pid, const char* comm, char* msg, size_t msgSize) {
   if (this->workerStarted) {
      Util_format(msg, msgSize, "a stack dump of %d is still running", (int)this->job.pid);
      return false;
   }
   this->pid = pid;
   Util_format(this->comm, sizeof(this->comm), "%s", comm);
   this->scroll = 0;
   free(this->text);
   this->text = NULL;
   this->textLen = 0;
   this->lineCount = 0;
   this->timing[0] = '\0';
   return launch(this, msg, msgSize);
}

bool StackView_retake(StackView* this, bool switchGrouping, char* msg, size_t msgSize) {
   if (this->pid <= 0)
      return false;
   if (this->workerStarted) {
      Util_format(msg, msgSize, "a stack dump of %d is still running", (int)this->job.pid);
      return false;
   }
   if (switchGrouping)
      this->groupBy = this->groupBy == DUMP_GROUP_PC ? DUMP_GROUP_FUNCTION : DUMP_GROUP_PC;
   return launch(this, msg, msgSize);
}

bool StackView_busy(StackView* this) {
   return this->workerStarted;
}

static void indexLines(StackView* this) {
   this->lineCount = 0;
   if (!this->text)
      return;
   size_t start = 0;
   for (size_t i = 0; i <= this->textLen; i++) {
      if (i < this->textLen && this->text[i] != '\n')
         continue;
      if (i == this->textLen && start == i)
         break;
      Util_growArray((void**)&this->lineStarts, &this->lineCapacity, this->lineCount, sizeof(size_t));
      this->lineStarts[this->lineCount++] = start;
      start = i + 1;
   }
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
      /* Keep the previous dump's text (if any) visible under the error. */
      this->state = STACK_FAILED;
      Util_format(this->message, sizeof(this->message), "%s", this->job.message);
      return true;
   }
   free(this->text);
   this->text = this->job.text;
   this->textLen = this->job.textLen;
   this->job.text = NULL;
   this->state = STACK_DONE;
   Util_format(this->timing, sizeof(this->timing),
               "%zu threads in %zu groups, grouped by %s; target stopped %.1f ms, dump took %.1f ms",
               this->job.totalThreads, this->job.groupCount, this->job.groupBy == DUMP_GROUP_PC ? "pc" : "function",
               this->job.stoppedMs, this->job.totalMs);
   indexLines(this);
   if (this->scroll >= this->lineCount)
      this->scroll = 0;
   return true;
}

void StackView_scroll(StackView* this, long delta) {
   long max = (long)this->lineCount - (this->pageRows > 0 ? this->pageRows : 1);
   long target = (long)this->scroll + delta;
   if (target > max)
      target = max;
   this->scroll = target < 0 ? 0 : (size_t)target;
}

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

size_t StackView_lineCount(const StackView* this) {
   return this->lineCount;
}

const char* StackView_text(const StackView* this) {
   return this->text ? this->text : "";
}

static void drawLines(StackView* this, const Theme* theme, int y, int height, int width) {
   this->pageRows = height > 0 ? height : 1;
   char line[1024];
   for (int i = 0; i < height && this->scroll + (size_t)i < this->lineCount; i++) {
      size_t index = this->scroll + (size_t)i;
      size_t start = this->lineStarts[index];
      size_t end = index + 1 < this->lineCount ? this->lineStarts[index + 1] - 1 : this->textLen;
      size_t n = end - start < sizeof(line) - 1 ? end - start : sizeof(line) - 1;
      memcpy(line, this->text + start, n);
      line[n] = '\0';
      for (size_t c = 0; c < n; c++) {
         if (line[c] == '\t')
            line[c] = ' ';
      }
      ThemeStyle style = line[0] == '#' ? STYLE_TEXT : line[0] ? STYLE_VALUE : STYLE_TEXT;
      Draw_text(y + i, 0, line, width, Theme_attr(theme, style));
   }
}

void StackView_draw(StackView* this, const Theme* theme, int y, int height, int width) {
   char title[160];
   Util_format(title, sizeof(title), "Stacks of %d (%s), grouped by %s   r re-take  g grouping  w save  q back",
               (int)this->pid, this->comm, this->groupBy == DUMP_GROUP_PC ? "pc" : "function");
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
   drawLines(this, theme, row, y + height - row, width);
}
