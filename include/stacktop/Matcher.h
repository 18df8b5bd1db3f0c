#ifndef STACKTOP_MATCHER_H
#define STACKTOP_MATCHER_H
/* Which processes belong to a watched service: `match = comm:NAME`,
 * `exe:/PATH`, `cmdline:/REGEX/`, `pidfile:/PATH` or `pid:N`, narrowed by
 * `user = NAME[, NAME...]` or `user = any`.
 *
 * Anyone can start a process named nginx, so the name patterns (comm, exe,
 * cmdline) match only root's processes unless `user` says otherwise; pid and
 * pidfile name one process and match any user's unless `user` narrows them.
 * A pidfile is read without following a symbolic link in a place another user
 * controls (SafePath), and a pidfile, or a directory on its path, owned by a
 * user other than root only names that user's processes. exe: also matches a
 * process whose binary was replaced on disk since it started (an upgrade:
 * /proc/PID/exe then reads "PATH (deleted)"). */
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

typedef struct MatchUsers_ {
   bool given; /* a `user` key was set */
   bool any;   /* user = any */
   uid_t* uids;
   size_t count;
} MatchUsers;

typedef struct Matcher_ {
   MatchKind kind;
   char* text;    /* comm, exe path, regex source or pidfile path; owned */
   regex_t regex; /* MATCH_CMDLINE only */
   pid_t pid;     /* MATCH_PID only */
   MatchUsers users;
} Matcher;

/* Parses a spec (the users already set are kept); returns 0, or -1 with
 * what is expected in err. */
int Matcher_parse(Matcher* this, const char* spec, char* err, size_t errSize);
/* Parses `user`: "any", or user names and numeric uids, comma separated. */
int Matcher_parseUsers(Matcher* this, const char* spec, char* err, size_t errSize);
void Matcher_free(Matcher* this);
/* "comm:nginx" back, for --check-config and summaries. */
void Matcher_describe(const Matcher* this, char* buf, size_t size);
/* The users in effect, in config syntax: "any", "root, www-data". */
void Matcher_describeUsers(const Matcher* this, char* buf, size_t size);
/* Whether processes of users other than root can match: a pattern with
 * user = any (for --check-config's warning). */
bool Matcher_othersCanMatch(const Matcher* this);

/* What a selection noticed, for the log (reported by the caller on change). */
#define MATCH_REPLACED_MAX 8
typedef struct MatchStatus_ {
   char pidfileProblem[512];           /* why a pidfile names no process; "" if none */
   pid_t replaced[MATCH_REPLACED_MAX]; /* exe: processes running a replaced binary */
   size_t replacedCount;
} MatchStatus;

/* Selects the matching processes of this refresh (never kernel threads or
 * stacktop itself). Returns a fresh array (caller frees) and its length;
 * status may be NULL. */
const ProcessSample** Matcher_select(const Matcher* this, const Sampler* sampler, size_t* count, MatchStatus* status);

#endif
