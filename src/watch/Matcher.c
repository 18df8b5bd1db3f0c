/* Process selection for watched services. */
#include "stacktop/Matcher.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Util.h"

typedef struct MatchPrefix_ {
   const char* prefix;
   MatchKind kind;
} MatchPrefix;

static const MatchPrefix prefixes[] = {
   { .prefix = "comm:", .kind = MATCH_COMM },       { .prefix = "exe:", .kind = MATCH_EXE },
   { .prefix = "cmdline:", .kind = MATCH_CMDLINE }, { .prefix = "pidfile:", .kind = MATCH_PIDFILE },
   { .prefix = "pid:", .kind = MATCH_PID },
};

static const char* const expected = "comm:NAME, exe:/ABSOLUTE/PATH, cmdline:/REGEX/, pidfile:/ABSOLUTE/PATH or pid:N";

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
   memset(this, 0, sizeof(*this));
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

void Matcher_free(Matcher* this) {
   if (this->text && this->kind == MATCH_CMDLINE)
      regfree(&this->regex);
   free(this->text);
   this->text = NULL;
}

void Matcher_describe(const Matcher* this, char* buf, size_t size) {
   for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
      if (prefixes[i].kind == this->kind) {
         Util_format(buf, size, "%s%s", prefixes[i].prefix, this->text ? this->text : "");
         return;
      }
   }
   Util_format(buf, size, "?");
}

/* The pid in a pidfile, or 0 when it is missing, malformed or not a regular
 * file (the service is simply not running then); *owner gets the file's owner.
 * Opened non-blocking: a FIFO planted by whoever owns the pidfile's directory
 * must not hang the watcher. */
static pid_t readPidfile(const char* path, uid_t* owner) {
   char buf[64];
   int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
   if (fd < 0)
      return 0;
   struct stat sb;
   ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, buf, sizeof(buf) - 1) : -1;
   close(fd);
   if (n < 0)
      return 0;
   *owner = sb.st_uid;
   buf[n] = '\0';
   buf[strcspn(buf, " \t\r\n")] = '\0';
   pid_t pid;
   return Util_parsePid(buf, &pid) == 0 ? pid : 0;
}

static bool exeIs(pid_t pid, const char* path) {
   char link[64], target[PATH_MAX];
   Util_format(link, sizeof(link), "/proc/%d/exe", (int)pid);
   ssize_t n = readlink(link, target, sizeof(target) - 1);
   if (n < 0)
      return false;
   target[n] = '\0';
   return strcmp(target, path) == 0;
}

static bool matches(const Matcher* this, const ProcessSample* p, pid_t pidfilePid) {
   switch (this->kind) {
   case MATCH_COMM: return strcmp(p->comm, this->text) == 0;
   case MATCH_EXE: return exeIs(p->pid, this->text);
   case MATCH_CMDLINE: return p->command && regexec(&this->regex, p->command, 0, NULL, 0) == 0;
   case MATCH_PIDFILE: return p->pid == pidfilePid;
   case MATCH_PID: return p->pid == this->pid;
   }
   return false;
}

const ProcessSample** Matcher_select(const Matcher* this, const Sampler* sampler, size_t* count) {
   pid_t self = getpid();
   uid_t pidfileOwner = 0;
   pid_t pidfilePid = this->kind == MATCH_PIDFILE ? readPidfile(this->text, &pidfileOwner) : 0;
   size_t n = Sampler_count(sampler);
   const ProcessSample** out = Util_xcalloc(n ? n : 1, sizeof(*out));
   *count = 0;
   for (size_t i = 0; i < n; i++) {
      const ProcessSample* p = Sampler_at(sampler, i);
      if (p->kernelThread || p->pid == self)
         continue;
      /* A user who writes the pidfile could name any pid; as systemd does, a
       * pidfile not owned by root only counts for its owner's processes. */
      if (pidfileOwner != 0 && p->uid != pidfileOwner)
         continue;
      if (matches(this, p, pidfilePid))
         out[(*count)++] = p;
   }
   return out;
}
