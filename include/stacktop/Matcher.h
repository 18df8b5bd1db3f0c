#ifndef STACKTOP_MATCHER_H
#define STACKTOP_MATCHER_H
/* Which processes belong to a watched service: `match = comm:NAME`,
 * `exe:/PATH`, `cmdline:/REGEX/`, `pidfile:/PATH` or `pid:N`. */
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stacktop/Sampler.h"

typedef enum MatchKind_ {
   MATCH_COMM,
   MATCH_EXE,
   MATCH_CMDLINE,
   MATCH_PIDFILE,
   MATCH_PID,
} MatchKind;

typedef struct Matcher_ {
   MatchKind kind;
   char* text;    /* comm, exe path, regex source or pidfile path; owned */
   regex_t regex; /* MATCH_CMDLINE only */
   pid_t pid;     /* MATCH_PID only */
} Matcher;

/* Parses a spec; returns 0, or -1 with what is expected in err. */
int Matcher_parse(Matcher* this, const char* spec, char* err, size_t errSize);
void Matcher_free(Matcher* this);
/* "comm:nginx" back, for --check-config and summaries. */
void Matcher_describe(const Matcher* this, char* buf, size_t size);
/* Selects the matching processes of this refresh (never kernel threads or
 * stacktop itself). Returns a fresh array (caller frees) and its length. */
const ProcessSample** Matcher_select(const Matcher* this, const Sampler* sampler, size_t* count);

#endif
