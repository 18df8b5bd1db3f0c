#ifndef STACKTOP_DUMP_H
#define STACKTOP_DUMP_H
/* Grouped thread-stack dumps: stop every thread of a process at once (ptrace
 * SEIZE+INTERRUPT), copy registers and live stacks, detach, then unwind,
 * group identical stacks and symbolize the unique PCs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef enum DumpGroupBy_ {
   DUMP_GROUP_PC,       /* identical PC sequences */
   DUMP_GROUP_FUNCTION, /* identical function sequences, offsets may differ */
} DumpGroupBy;

typedef enum DumpFormat_ {
   DUMP_FORMAT_TEXT,   /* Go goroutine profile, debug=1 layout */
   DUMP_FORMAT_FOLDED, /* comm;outer;...;inner COUNT */
   DUMP_FORMAT_JSON,
} DumpFormat;

typedef struct DumpOptions_ {
   DumpGroupBy groupBy;
   int maxDepth;    /* frames per thread, default 256 */
   bool lines;      /* file:line and inlined frames (default true) */
   bool demangle;   /* C++ and Rust names demangled (default true); false: as the binary spells them */
   double timeoutS; /* bound on every wait for a thread to stop */
   /* Symbol cache to use and keep (a front end re-taking dumps passes its own,
    * used by one dump at a time); NULL: a temporary one per dump. */
   struct Symbols_* symbols;
   bool detachOnSignal; /* CLI only: Snapshot's signal handlers detach (see Snapshot.h) */
   /* Go processes: also read the goroutines (default true). */
   bool goroutines;
   /* Bytes of goroutine stacks copied while the target is stopped; past it,
    * the rest are read after the resume and re-checked (0: the default). */
   size_t goStoppedStackBudget;
   int holdMs; /* test-only, from STACKTOP_TEST_HOLD_MS: keep threads stopped this long */
} DumpOptions;

typedef struct DumpFrame_ {
   uint64_t pc;    /* the looked-up address: the pc itself for the interrupted frame, pc-1 for return addresses */
   char* function; /* NULL when unknown */
   uint64_t offset;
   char* file; /* NULL without debug info */
   int line;
   char* module; /* ELF path, NULL when not in a file */
   bool inlined;
} DumpFrame;

typedef struct DumpThread_ {
   pid_t tid;
   char name[16];
   char state; /* /proc state letter at the time of the snapshot */
} DumpThread;

typedef struct DumpGroup_ {
   size_t count;
   DumpThread* threads; /* count entries, by tid */
   uint64_t* pcs;       /* raw return addresses, innermost first (group line) */
   size_t pcCount;
   DumpFrame* frames; /* symbolized frames incl. inlined ones, innermost first */
   size_t frameCount;
} DumpGroup;

typedef struct DumpResult_ {
   pid_t pid;
   char comm[16];
   size_t totalThreads;
   size_t lateThreads; /* did not stop within timeoutS: listed without frames */
   double stoppedMs;   /* how long the target was paused */
   double totalMs;     /* whole dump including symbolization */
   DumpGroupBy groupBy;
   DumpGroup* groups; /* ordered: count descending, then group line text */
   size_t groupCount;
   struct GoProfile_* go; /* the goroutine profile of a Go process; NULL otherwise */
} DumpResult;

/* Error classes of Dump_take, each with its own message. */
typedef enum DumpError_ {
   DUMP_OK = 0,
   DUMP_ERR_NO_PROCESS,
   DUMP_ERR_PERMISSION,
   DUMP_ERR_KERNEL_THREAD,
   DUMP_ERR_ZOMBIE,
   DUMP_ERR_SELF,
   DUMP_ERR_TIMEOUT,
   DUMP_ERR_INTERNAL,
} DumpError;

void DumpOptions_init(DumpOptions* this);
/* Takes a dump. On failure returns the error class and a one-line message in err. */
DumpError Dump_take(pid_t pid, const DumpOptions* options, DumpResult** out, char* err, size_t errSize);
void Dump_free(DumpResult* this);
typedef enum DumpParts_ {
   DUMP_PARTS_ALL,        /* a Go process's goroutines, then the threads */
   DUMP_PARTS_GOROUTINES, /* only the goroutine part */
   DUMP_PARTS_THREADS,    /* only the thread part */
} DumpParts;

typedef struct DumpWriteOptions_ {
   DumpFormat format;
   DumpParts parts;
   int debug; /* goroutine text: 1 = grouped profile (default), 2 = one block per goroutine */
} DumpWriteOptions;

/* Writes the dump in the given format, every part; returns 0 or -1 (errno)
 * on write error. */
int Dump_write(const DumpResult* this, DumpFormat format, FILE* out);
/* The same with the parts and goroutine layout chosen. */
int Dump_writeWith(const DumpResult* this, const DumpWriteOptions* options, FILE* out);
/* `stacktop dump ...`: parses argv (argv[0] = "dump") and returns the exit status. */
int Dump_main(int argc, char** argv);

#endif
