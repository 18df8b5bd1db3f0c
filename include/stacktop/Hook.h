#ifndef STACKTOP_HOOK_H
#define STACKTOP_HOOK_H
/* The `exec` hook: a command run through /bin/sh after a bundle is written,
 * with extra environment variables, bounded in time, its output logged
 * line by line under the service's name (made printable). The watcher runs it
 * in a background job that is a process group of its own; the shell stays in
 * that group, so whatever the hook leaves behind is killed with the group
 * when the job ends or its deadline passes. */
#include <stddef.h>

typedef struct HookVar_ {
   const char* name;
   const char* value;
} HookVar;

/* Runs command and waits at most timeoutS (then kills the shell; the
 * caller kills the rest of the process group).
 * Returns the exit status (0..255), or -1 when it could not run, was killed
 * by a signal or timed out; every outcome is logged. */
int Hook_run(const char* command, const HookVar* vars, size_t varCount, double timeoutS, const char* service);

#endif
