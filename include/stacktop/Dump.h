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
   DUMP_FORMAT_PPROF, /* gzip-compressed pprof profile.proto (binary) */
   DUMP_FORMAT_SVG,   /* self-contained flame graph */
} DumpFormat;

/* Why a thread's stack ends where it does. Anything but DUMP_CUT_NONE is a
 * partial stack, marked as such in every format. */
typedef enum DumpCut_ {
   DUMP_CUT_NONE,        /* the outermost frame was reached */
   DUMP_CUT_DEPTH,       /* --max-depth frames */
   DUMP_CUT_COPY_LIMIT,  /* the caller's frame lies past the part of the stack that was copied */
   DUMP_CUT_UNREADABLE,  /* a read outside the stack copy and the mapped files */
   DUMP_CUT_NO_INFO,     /* no unwind information for a pc and no usable frame pointer */
   DUMP_CUT_BAD_FRAME,   /* the caller's frame was not above its callee's (a corrupt stack, or a misread) */
   DUMP_CUT_FAILED,      /* the unwinder gave up for another reason */
   DUMP_CUT_NOT_STOPPED, /* the thread did not stop in time: no user stack at all */
   DUMP_CUT_COUNT,
} DumpCut;

/* How a pc of a stack is looked up. */
typedef enum DumpPcKind_ {
   DUMP_PC_RETURN, /* a return address: looked up at pc-1, the call */
   DUMP_PC_EXACT,  /* the interrupted instruction (frame 0, or the one a signal interrupted) */
   DUMP_PC_SIGNAL, /* the signal trampoline a handler returns to (__restore_rt) */
} DumpPcKind;

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
   /* Bound on all thread stack copies together (0: the default, 1 GiB); deep
    * stacks lose their outer ends first, marked cut. */
   size_t maxStackBytes;
   int holdMs; /* test builds only (TEST_HOOKS=1), from STACKTOP_TEST_HOLD_MS: keep threads stopped this long */
} DumpOptions;

typedef struct DumpFrame_ {
   uint64_t pc;    /* the looked-up address: the pc itself for the interrupted frame, pc-1 for return addresses */
   char* function; /* NULL when unknown */
   uint64_t offset;
   char* file; /* NULL without debug info */
   int line;
   char* module; /* ELF path, NULL when not in a file */
   bool inlined;
   bool signal; /* the signal trampoline: "<signal handler called>" */
} DumpFrame;

typedef struct DumpThread_ {
   pid_t tid;
   char name[16];
   char state; /* /proc state letter at the time of the snapshot */
} DumpThread;

/* Where a thread that never stopped waits in the kernel (read after the
 * release, so only for threads still there: a D-state thread is). */
typedef struct DumpKernelWait_ {
   char wchan[64];    /* /proc/PID/task/TID/wchan; "" when unreadable or 0 */
   char* stack;       /* /proc/PID/task/TID/stack, one frame a line; NULL when unreadable */
   char stackErr[64]; /* why stack is NULL */
} DumpKernelWait;

typedef struct DumpGroup_ {
   size_t count;
   DumpThread* threads; /* count entries, by tid */
   uint64_t* pcs;       /* raw return addresses, innermost first (group line) */
   uint8_t* kinds;      /* DumpPcKind of each pc */
   size_t pcCount;
   DumpCut cut;         /* why the stack ends: part of the group's identity */
   DumpKernelWait wait; /* DUMP_CUT_NOT_STOPPED: the lowest tid's; part of the identity (wchan) */
   DumpFrame* frames;   /* symbolized frames incl. inlined ones, innermost first */
   size_t frameCount;
} DumpGroup;

/* A file-backed mapping a stack passes through (for pprof's mappings). */
typedef struct DumpMapping_ {
   uint64_t start, end, offset; /* as in /proc/PID/maps */
   char* path;                  /* as mapped, without " (deleted)"; owned */
   char buildId[129];           /* GNU build-id in hexadecimal; "" when none or unreadable */
} DumpMapping;

typedef struct DumpResult_ {
   pid_t pid;
   char comm[16];
   size_t totalThreads;
   size_t lateThreads;          /* did not stop within timeoutS: listed without frames */
   size_t missedThreads;        /* appeared during the stop but too late or beyond room: not listed */
   size_t cutStacks;            /* threads whose stack is partial (DumpGroup.cut), not_stopped aside */
   size_t cuts[DUMP_CUT_COUNT]; /* threads by why their stack ends */
   size_t copiedBytes;          /* thread stacks copied while the target was stopped */
   double stoppedMs;            /* how long the target was paused */
   /* The pause's parts: PTRACE_INTERRUPT of every thread, waiting until the
    * last was stopped, copying registers and stacks, the release. */
   double interruptMs, waitMs, copyMs, releaseMs;
   double totalMs; /* whole dump including symbolization */
   DumpGroupBy groupBy;
   DumpGroup* groups; /* ordered: count descending, then group line text */
   size_t groupCount;
   struct GoProfile_* go; /* the goroutine profile of a Go process; NULL otherwise */
   double takenAt;        /* CLOCK_REALTIME seconds when the dump began */
   DumpMapping* mappings; /* the mappings of the groups' pcs (threads and goroutines), by address */
   size_t mappingCount;
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
/* The short name ("depth") and the sentence of a cut, for every format. */
const char* Dump_cutName(DumpCut cut);
const char* Dump_cutReason(DumpCut cut);
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

/* Whether the parts lack something they were asked for: threads that did
 * not stop or are missing, stacks cut for another reason than --max-depth;
 * goroutines of a Go process that could not be read, are missing or cut. */
bool Dump_incomplete(const DumpResult* this, DumpParts parts);

/* Writes the dump in the given format, every part; returns 0 or -1 (errno)
 * on write error. */
int Dump_write(const DumpResult* this, DumpFormat format, FILE* out);
/* The same with the parts and goroutine layout chosen. */
int Dump_writeWith(const DumpResult* this, const DumpWriteOptions* options, FILE* out);
/* `stacktop dump ...`: parses argv (argv[0] = "dump") and returns the exit status. */
int Dump_main(int argc, char** argv);
struct CliCommand_;
/* Its option table (for the man-page check). */
const struct CliCommand_* Dump_command(void);

#endif
