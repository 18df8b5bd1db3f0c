/* Process selection for watched services. */
#include "stacktop/Matcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/SafePath.h"
#include "stacktop/Util.h"

#define DELETED_SUFFIX " (deleted)"

typedef struct MatchPrefix_ {
   const char* prefix;
   MatchKind kind;
   bool pattern; /* a name anyone can give a process: root's only by default */
} MatchPrefix;

static const MatchPrefix prefixes[] = {
   { .prefix = "comm:", .kind = MATCH_COMM, .pattern = true },
   { .prefix = "exe:", .kind = MATCH_EXE, .pattern = true },
   { .prefix = "cmdline:", .kind = MATCH_CMDLINE, .pattern = true },
   { .prefix = "pidfile:", .kind = MATCH_PIDFILE },
   { .prefix = "pid:", .kind = MATCH_PID },
};

static const char* const expected = "comm:NAME, exe:/ABSOLUTE/PATH, cmdline:/REGEX/, pidfile:/ABSOLUTE/PATH or pid:N";

static const MatchPrefix* prefixOf(MatchKind kind) {
   for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
      if (prefixes[i].kind == kind)
         return &prefixes[i];
   }
   return &prefixes[0];
}

static int parseValue(Matcher* this, const char* v, char* err, size_t errSize) {
   size_t len = strlen(v);
   switch (this->kind) {
   case MATCH_COMM:
      if (len == 0 || len > 15) {
         Util_format(err, errSize,
                     "comm: needs a process name of 1 to 15 characters (the kernel truncates comm to 15)");
         return -1;
      }
      break;
   case MATCH_EXE:
   case MATCH_PIDFILE:
      if (v[0] != '/') {
         Util_format(err, errSize, "%s needs an absolute path", this->kind == MATCH_EXE ? "exe:" : "pidfile:");
         return -1;
      }
      break;
   case MATCH_CMDLINE: {
      if (len < 2 || v[0] != '/' || v[len - 1] != '/') {
         Util_format(err, errSize, "cmdline: needs a regular expression between slashes, e.g. cmdline:/java .*kafka/");
         return -1;
      }
      char* re = Util_xstrdup(v + 1);
      re[len - 2] = '\0';
      int rc = regcomp(&this->regex, re, REG_EXTENDED | REG_NOSUB);
      free(re);
      if (rc != 0) {
         char msg[128];
         regerror(rc, &this->regex, msg, sizeof(msg));
         Util_format(err, errSize, "cmdline: bad regular expression: %s", msg);
         return -1;
      }
      break;
   }
   case MATCH_PID:
      if (Util_parsePid(v, &this->pid) < 0) {
         Util_format(err, errSize, "pid: needs a positive process id");
         return -1;
      }
      break;
   }
   this->text = Util_xstrdup(v);
   return 0;
}

int Matcher_parse(Matcher* this, const char* spec, char* err, size_t errSize) {
   MatchUsers users = this->users;
   memset(this, 0, sizeof(*this));
   this->users = users;
   for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
      size_t n = strlen(prefixes[i].prefix);
      if (strncmp(spec, prefixes[i].prefix, n) == 0) {
         this->kind = prefixes[i].kind;
         return parseValue(this, spec + n, err, errSize);
      }
   }
   Util_format(err, errSize, "expected %s", expected);
   return -1;
}

/* One user: a name from the password database or a numeric uid. */
static int parseUser(const char* tok, uid_t* uid, char* err, size_t errSize) {
   struct passwd pw, *found = NULL;
   char buf[4096];
   if (getpwnam_r(tok, &pw, buf, sizeof(buf), &found) == 0 && found) {
      *uid = found->pw_uid;
      return 0;
   }
   char* end;
   errno = 0;
   unsigned long v = strtoul(tok, &end, 10);
   if (tok[0] >= '0' && tok[0] <= '9' && *end == '\0' && errno == 0 && v < (unsigned long)(uid_t)-1) {
      *uid = (uid_t)v;
      return 0;
   }
   Util_format(err, errSize, "'%s' is neither a user on this host nor a numeric uid; expected 'any' or user names",
               tok);
   return -1;
}

static void usersFree(MatchUsers* u) {
   free(u->uids);
   memset(u, 0, sizeof(*u));
}

int Matcher_parseUsers(Matcher* this, const char* spec, char* err, size_t errSize) {
   usersFree(&this->users);
   if (strcmp(spec, "any") == 0) {
      this->users = (MatchUsers){ .given = true, .any = true };
      return 0;
   }
   char* copy = Util_xstrdup(spec);
   char* save = NULL;
   size_t cap = 0;
   int rc = 0;
   for (char* tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
      while (*tok == ' ' || *tok == '\t')
         tok++;
      size_t len = strlen(tok);
      while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
         tok[--len] = '\0';
      uid_t uid;
      rc = parseUser(tok, &uid, err, errSize);
      if (rc == 0) {
         Util_growArray((void**)&this->users.uids, &cap, this->users.count, sizeof(uid_t));
         this->users.uids[this->users.count++] = uid;
      }
   }
   free(copy);
   if (rc == 0 && this->users.count == 0) {
      Util_format(err, errSize, "no user given; expected 'any' or user names, comma separated");
      rc = -1;
   }
   if (rc < 0)
      usersFree(&this->users);
   else
      this->users.given = true;
   return rc;
}

void Matcher_free(Matcher* this) {
   if (this->text && this->kind == MATCH_CMDLINE)
      regfree(&this->regex);
   free(this->text);
   this->text = NULL;
   usersFree(&this->users);
}

void Matcher_describe(const Matcher* this, char* buf, size_t size) {
   Util_format(buf, size, "%s%s", prefixOf(this->kind)->prefix, this->text ? this->text : "");
}

/* Root only, unless `user` says otherwise, for names anyone can choose. */
static bool rootOnlyByDefault(const Matcher* this) {
   return !this->users.given && prefixOf(this->kind)->pattern;
}

void Matcher_describeUsers(const Matcher* this, char* buf, size_t size) {
   if (rootOnlyByDefault(this)) {
      Util_format(buf, size, "root");
      return;
   }
   if (!this->users.given || this->users.any) {
      Util_format(buf, size, "any");
      return;
   }
   size_t used = 0;
   buf[0] = '\0';
   for (size_t i = 0; i < this->users.count && used + 1 < size; i++) {
      struct passwd pw, *found = NULL;
      char pwbuf[4096], name[64];
      if (getpwuid_r(this->users.uids[i], &pw, pwbuf, sizeof(pwbuf), &found) == 0 && found)
         Util_format(name, sizeof(name), "%s", found->pw_name);
      else
         Util_format(name, sizeof(name), "%u", (unsigned)this->users.uids[i]);
      Util_format(buf + used, size - used, "%s%s", i ? ", " : "", name);
      used = strlen(buf);
   }
}

bool Matcher_othersCanMatch(const Matcher* this) {
   return prefixOf(this->kind)->pattern && this->users.any;
}

static bool userAllowed(const Matcher* this, uid_t uid) {
   if (rootOnlyByDefault(this))
      return uid == 0;
   if (!this->users.given || this->users.any)
      return true;
   for (size_t i = 0; i < this->users.count; i++) {
      if (this->users.uids[i] == uid)
         return true;
   }
   return false;
}

/* Trust in a pidfile: the one user whose processes it may name (0: any). */
typedef struct PidfileTrust_ {
   uid_t owner;
} PidfileTrust;

static int narrowTrust(PidfileTrust* t, uid_t uid, const char* path, char* err, size_t errSize) {
   if (uid == 0 || uid == t->owner)
      return 0;
   if (t->owner != 0) {
      Util_format(err, errSize, "%s and what is above it belong to two different users (uid %u and %u)", path,
                  (unsigned)t->owner, (unsigned)uid);
      return -1;
   }
   t->owner = uid;
   return 0;
}

static int visitPidfile(void* ctx, const char* path, const struct stat* sb, bool last, char* err, size_t errSize) {
   PidfileTrust* t = ctx;
   if (last && !S_ISREG(sb->st_mode)) {
      Util_format(err, errSize, "%s is not a regular file", path);
      return -1;
   }
   if (!last && SafePath_othersCanWrite(sb)) {
      Util_format(err, errSize, "%s is writable by other users (mode %04o): anyone could replace the pidfile", path,
                  (unsigned)(sb->st_mode & 07777));
      return -1;
   }
   return narrowTrust(t, sb->st_uid, path, err, errSize);
}

/* The pid in a pidfile, or 0 when it is missing, malformed or refused (then
 * problem says why). Opened non-blocking: a FIFO planted where the pidfile
 * belongs must not hang the watcher. */
static pid_t readPidfile(const char* path, uid_t* owner, char* problem, size_t problemSize) {
   PidfileTrust trust = { .owner = 0 };
   char why[400];
   problem[0] = '\0';
   int fd = SafePath_open(path, O_RDONLY | O_NONBLOCK, false, visitPidfile, &trust, why, sizeof(why));
   if (fd < 0) {
      if (errno != ENOENT)
         Util_format(problem, problemSize, "pidfile %s not used: %s", path, why);
      return 0;
   }
   char buf[64];
   ssize_t n = read(fd, buf, sizeof(buf) - 1);
   close(fd);
   if (n <= 0)
      return 0;
   buf[n] = '\0';
   buf[strcspn(buf, " \t\r\n")] = '\0';
   pid_t pid;
   if (Util_parsePid(buf, &pid) < 0)
      return 0;
   *owner = trust.owner;
   return pid;
}

/* exe: the path itself, or the same path replaced on disk since the start. */
static bool exeIs(pid_t pid, const char* path, bool* replaced) {
   char link[64], target[PATH_MAX];
   Util_format(link, sizeof(link), "/proc/%d/exe", (int)pid);
   ssize_t n = readlink(link, target, sizeof(target) - 1);
   if (n < 0)
      return false;
   target[n] = '\0';
   if (strcmp(target, path) == 0)
      return true;
   size_t pl = strlen(path);
   *replaced = (size_t)n == pl + strlen(DELETED_SUFFIX) && strncmp(target, path, pl) == 0 &&
               strcmp(target + pl, DELETED_SUFFIX) == 0;
   return *replaced;
}

static bool matches(const Matcher* this, const ProcessSample* p, pid_t pidfilePid, bool* replaced) {
   switch (this->kind) {
   case MATCH_COMM: return strcmp(p->comm, this->text) == 0;
   case MATCH_EXE: return exeIs(p->pid, this->text, replaced);
   case MATCH_CMDLINE: return p->command && regexec(&this->regex, p->command, 0, NULL, 0) == 0;
   case MATCH_PIDFILE: return p->pid == pidfilePid;
   case MATCH_PID: return p->pid == this->pid;
   }
   return false;
}

const ProcessSample** Matcher_select(const Matcher* this, const Sampler* sampler, size_t* count, MatchStatus* status) {
   MatchStatus local;
   if (!status)
      status = &local;
   memset(status, 0, sizeof(*status));
   pid_t self = getpid();
   uid_t pidfileOwner = 0;
   pid_t pidfilePid = this->kind == MATCH_PIDFILE ? readPidfile(this->text, &pidfileOwner, status->pidfileProblem,
                                                                sizeof(status->pidfileProblem))
                                                  : 0;
   size_t n = Sampler_count(sampler);
   const ProcessSample** out = Util_xcalloc(n ? n : 1, sizeof(*out));
   *count = 0;
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = Sampler_at(sampler, i);
      if (p->kernelThread || p->pid == self || !userAllowed(this, p->uid))
         continue;
      /* A user who writes the pidfile could name any pid; as systemd does, a
       * pidfile not owned by root only counts for its owner's processes. */
      if (pidfileOwner != 0 && p->uid != pidfileOwner)
         continue;
      bool replaced = false;
      if (!matches(this, p, pidfilePid, &replaced))
         continue;
      out[(*count)++] = p;
      if (replaced && status->replacedCount < MATCH_REPLACED_MAX)
         status->replaced[status->replacedCount++] = p->pid;
   }
   return out;
}
