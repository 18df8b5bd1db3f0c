/* exec hook: fork, exec /bin/sh -c, collect output, enforce the time limit. */
#include "stacktop/Hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stacktop/Printable.h"
#include "stacktop/Util.h"
#include "stacktop/WatchLog.h"

/* Output beyond this is drained but not logged: a chatty hook must not flood the log. */
#define HOOK_LOG_MAX (64 * 1024)

static void childExec(const char* command, const HookVar* vars, size_t varCount, int out) {
   int devnull = open("/dev/null", O_RDONLY);
   if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
   dup2(out, STDOUT_FILENO);
   dup2(out, STDERR_FILENO);
   for (size_t i = 0; i < varCount; i++)
      setenv(vars[i].name, vars[i].value, 1);
   signal(SIGPIPE, SIG_DFL);
   execl("/bin/sh", "sh", "-c", command, (char*)NULL);
   _exit(127);
}

/* Logs complete lines of buf[0..*len) and keeps the unfinished tail. */
static void logLines(char* buf, size_t* len, bool flush, const char* service, size_t* logged) {
   size_t start = 0;
   for (size_t i = 0; i < *len; i++) {
      if (buf[i] != '\n' && !(flush && i + 1 == *len))
         continue;
      size_t n = i - start + (buf[i] == '\n' ? 0 : 1);
      if (*logged < HOOK_LOG_MAX) {
         char line[4096 * 4 + 1];
         char raw[4097];
         Util_format(raw, sizeof(raw), "%.*s", (int)n, buf + start);
         WatchLog_write(WATCHLOG_INFO, service, "exec: %s", Printable_copy(line, sizeof(line), raw));
      }
      *logged += n + 1;
      start = i + 1;
   }
   memmove(buf, buf + start, *len - start);
   *len -= start;
}

/* Reads the child's output until EOF or the deadline. Returns false on timeout. */
static bool drain(int fd, double deadline, const char* service) {
   char buf[4096];
   size_t len = 0, logged = 0;
   for (;;) {
      double left = deadline - Util_monotonicSeconds();
      if (left <= 0)
         return false;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int rc = poll(&p, 1, (int)(left * 1000) + 1);
      if (rc < 0 && errno == EINTR)
         continue;
      if (rc <= 0)
         continue;
      ssize_t n = read(fd, buf + len, sizeof(buf) - len);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0) {
         logLines(buf, &len, true, service, &logged);
         return true;
      }
      len += (size_t)n;
      logLines(buf, &len, len == sizeof(buf), service, &logged);
   }
}

/* Waits for the child until the deadline; returns false on timeout. */
static bool reap(pid_t pid, double deadline, int* status) {
   for (;;) {
      pid_t r = waitpid(pid, status, WNOHANG);
      if (r == pid)
         return true;
      if (r < 0 && errno != EINTR)
         return true;
      if (Util_monotonicSeconds() >= deadline)
         return false;
      usleep(10000);
   }
}

int Hook_run(const char* command, const HookVar* vars, size_t varCount, double timeoutS, const char* service) {
   int pipefd[2];
   if (pipe2(pipefd, O_CLOEXEC) != 0) {
      WatchLog_write(WATCHLOG_ERROR, service, "exec '%s' not run: pipe: %s", command, strerror(errno));
      return -1;
   }
   pid_t pid = fork();
   if (pid < 0) {
      WatchLog_write(WATCHLOG_ERROR, service, "exec '%s' not run: fork: %s", command, strerror(errno));
      close(pipefd[0]);
      close(pipefd[1]);
      return -1;
   }
   if (pid == 0)
      childExec(command, vars, varCount, pipefd[1]);
   close(pipefd[1]);
   double deadline = Util_monotonicSeconds() + timeoutS;
   bool inTime = drain(pipefd[0], deadline, service);
   close(pipefd[0]);
   int status = 0;
   if (inTime)
      inTime = reap(pid, deadline, &status);
   if (!inTime) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      WatchLog_write(WATCHLOG_WARNING, service, "exec '%s' killed after exec_timeout (%gs)", command, timeoutS);
      return -1;
   }
   if (WIFSIGNALED(status)) {
      WatchLog_write(WATCHLOG_WARNING, service, "exec '%s' died of signal %d", command, WTERMSIG(status));
      return -1;
   }
   int code = WEXITSTATUS(status);
   WatchLog_write(code == 0 ? WATCHLOG_INFO : WATCHLOG_WARNING, service, "exec '%s' exited with status %d", command,
                  code);
   return code;
}
