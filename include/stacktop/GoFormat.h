#ifndef STACKTOP_GOFORMAT_H
#define STACKTOP_GOFORMAT_H
/* Renderings of a GoProfile: Go's own /debug/pprof/goroutine?debug=1 text
 * (through Go's tabwriter rules) and ?debug=2 text, byte for byte where the
 * data agrees, the "go" object of the JSON dump, and folded stacks. Names,
 * paths and labels come from the target's binary and memory: the text forms
 * replace control bytes so they cannot forge lines or reach a terminal. */
#include <stdio.h>

#include "stacktop/GoProfile.h"
#include "stacktop/Json.h"

/* debug=1: "goroutine profile: total N", the groups, then the notes and the
 * timing line "# goroutines read in X ms, process stopped Y ms". */
void GoFormat_text(const GoProfile* p, double stoppedMs, FILE* out);
/* debug=2: one block per goroutine in allgs order, arguments as (...). */
void GoFormat_traces(const GoProfile* p, double stoppedMs, FILE* out);
/* The value of the "go" key. */
void GoFormat_json(const GoProfile* p, double stoppedMs, Json* j);
/* comm;outermost;...;innermost COUNT, one line per group. */
void GoFormat_folded(const GoProfile* p, const char* comm, FILE* out);

#endif
