/* Checked allocation, messages, clocks and small file reads. */
#include "stacktop/Util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void outOfMemory(size_t size) {
   /* No allocation may happen here. */
   fprintf(stderr, "stacktop: out of memory allocating %zu bytes; free some memory and retry\n", size);
   abort();
}

void* Util_xmalloc(size_t size) {
   void* p = malloc(size ? size : 1);
   if (!p)
      outOfMemory(size);
   return p;
}

void* Util_xcalloc(size_t count, size_t size) {
   void* p = calloc(count ? count : 1, size ? size : 1);
   if (!p)
      outOfMemory(count * size);
   return p;
}

void* Util_xrealloc(void* ptr, size_t size) {
   void* p = realloc(ptr, size ? size : 1);
   if (!p)
      outOfMemory(size);
   return p;
}

char* Util_xstrdup(const char* s) {
   char* p = strdup(s ? s : "");
   if (!p)
      outOfMemory(s ? strlen(s) + 1 : 1);
   return p;
}

void Util_growArray(void** array, size_t* capacity, size_t need, size_t elemSize) {
   if (need < *capacity)
      return;
   size_t cap = *capacity ? *capacity : 16;
   while (cap <= need) {
      if (cap > SIZE_MAX / 2 / elemSize)
         outOfMemory(SIZE_MAX);
      cap *= 2;
   }
   *array = Util_xrealloc(*array, cap * elemSize);
   *capacity = cap;
}

void Util_error(const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   fputs("stacktop: ", stderr);
   vfprintf(stderr, fmt, ap);
   fputc('\n', stderr);
   va_end(ap);
}

bool Util_format(char* buf, size_t size, const char* fmt, ...) {
   if (size == 0)
      return false;
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, size, fmt, ap);
   va_end(ap);
   if (n < 0) {
      buf[0] = '\0';
      return false;
   }
   if ((size_t)n < size)
      return true;
   /* Cut short: say so where a reader will see it. */
   if (size > 3)
      memcpy(buf + size - 4, "...", 4);
   return false;
}

static double clockSeconds(clockid_t id) {
   struct timespec ts;
   clock_gettime(id, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double Util_monotonicSeconds(void) {
   return clockSeconds(CLOCK_MONOTONIC);
}

double Util_wallSeconds(void) {
   return clockSeconds(CLOCK_REALTIME);
}

ssize_t Util_readFile(const char* path, char* buf, size_t size) {
   if (size == 0) {
      errno = EINVAL;
      return -1;
   }
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      return -1;
   size_t total = 0;
   while (total < size - 1) {
      ssize_t n = read(fd, buf + total, size - 1 - total);
      if (n < 0 && errno == EINTR)
         continue;
      if (n < 0) {
         int saved = errno;
         close(fd);
         errno = saved;
         return -1;
      }
      if (n == 0)
         break;
      total += (size_t)n;
   }
   close(fd);
   buf[total] = '\0';
   return (ssize_t)total;
}

char* Util_readFd(int fd, size_t maxBytes, size_t* len) {
   size_t cap = 4096, total = 0;
   char* buf = Util_xmalloc(cap + 1);
   for (;;) {
      if (total == cap) {
         if (cap >= maxBytes)
            break;
         cap = cap * 2 > maxBytes ? maxBytes : cap * 2;
         buf = Util_xrealloc(buf, cap + 1);
      }
      ssize_t n = read(fd, buf + total, cap - total);
      if (n < 0 && errno == EINTR)
         continue;
      if (n < 0) {
         int saved = errno;
         free(buf);
         errno = saved;
         return NULL;
      }
      if (n == 0)
         break;
      total += (size_t)n;
   }
   buf[total] = '\0';
   if (len)
      *len = total;
   return buf;
}

char* Util_slurp(const char* path, size_t maxBytes, size_t* len) {
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      return NULL;
   char* buf = Util_readFd(fd, maxBytes, len);
   int saved = errno;
   close(fd);
   errno = saved;
   return buf;
}

FILE* Util_openPrivate(const char* path, int flags) {
   int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | flags, 0600);
   if (fd < 0)
      return NULL;
   FILE* f = fdopen(fd, "w");
   if (!f) {
      int saved = errno;
      close(fd);
      errno = saved;
   }
   return f;
}

int Util_parsePid(const char* s, pid_t* out) {
   if (!s || *s < '0' || *s > '9')
      return -1;
   errno = 0;
   char* end;
   long v = strtol(s, &end, 10);
   if (errno || *end || v < 1 || v > INT_MAX)
      return -1;
   *out = (pid_t)v;
   return 0;
}
