/* The persistent, shared watcher state; see WatchState.h. */
#include "stacktop/WatchState.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/BundleDir.h"
#include "stacktop/Util.h"

#define STATE_NAME "state"
#define LOCK_NAME ".lock"
#define STATE_MAGIC "stacktop-state 1"
#define STATE_MAX_BYTES (4u << 20)
#define LOCK_WAIT_S 5.0

double WatchState_now(void) {
   struct timespec ts;
   clock_gettime(CLOCK_BOOTTIME, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bootId(char* buf, size_t size) {
   if (Util_readFile("/proc/sys/kernel/random/boot_id", buf, size) <= 0)
      Util_format(buf, size, "unknown");
   buf[strcspn(buf, "\n")] = '\0';
}

void WatchState_init(WatchState* this, unsigned maxPerHour) {
   memset(this, 0, sizeof(*this));
   FloodCap_init(&this->cap, maxPerHour);
   this->nextSeq = 1;
}

static void clearEntries(WatchState* this) {
   for (size_t i = 0; i < this->episodeCount; i++)
      free(this->episodes[i].service);
   for (size_t i = 0; i < this->bundleCount; i++)
      free(this->bundles[i].stem);
   this->episodeCount = 0;
   this->bundleCount = 0;
   this->cap.count = 0;
   this->nextSeq = 1;
}

void WatchState_free(WatchState* this) {
   clearEntries(this);
   free(this->episodes);
   free(this->bundles);
   memset(this, 0, sizeof(*this));
}

int WatchState_lock(int dirFd, char* err, size_t errSize) {
   int fd = BundleDir_create(dirFd, LOCK_NAME, 0);
   if (fd < 0) {
      Util_format(err, errSize, "cannot open %s in bundle_dir: %s", LOCK_NAME, strerror(errno));
      return -1;
   }
   double deadline = Util_monotonicSeconds() + LOCK_WAIT_S;
   while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
         Util_format(err, errSize, "cannot lock %s in bundle_dir: %s", LOCK_NAME, strerror(errno));
         close(fd);
         return -1;
      }
      if (Util_monotonicSeconds() > deadline) {
         Util_format(err, errSize, "bundle_dir is locked by another stacktop process for more than %gs; is one stuck?",
                     LOCK_WAIT_S);
         close(fd);
         return -1;
      }
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
   }
   return fd;
}

void WatchState_unlock(int lockFd) {
   if (lockFd >= 0)
      close(lockFd); /* releases the flock */
}

/* ---- service names in the file: percent-encoded, so no blank or control byte splits a line */

static void encodeName(const char* in, char* out, size_t size) {
   static const char hex[] = "0123456789ABCDEF";
   size_t o = 0;
   for (; *in && o + 4 < size; in++) {
      unsigned char c = (unsigned char)*in;
      if (c <= 0x20 || c >= 0x7f || c == '%') {
         out[o++] = '%';
         out[o++] = hex[c >> 4];
         out[o++] = hex[c & 15];
      } else {
         out[o++] = (char)c;
      }
   }
   out[o] = '\0';
}

static void decodeName(char* s) {
   char* w = s;
   for (const char* r = s; *r; r++) {
      unsigned v;
      if (r[0] == '%' && sscanf(r + 1, "%2x", &v) == 1) {
         *w++ = (char)v;
         r += 2;
      } else {
         *w++ = *r;
      }
   }
   *w = '\0';
}

RuleEpisode* WatchState_episode(WatchState* this, const char* service, RuleKind rule) {
   for (size_t i = 0; i < this->episodeCount; i++) {
      if (this->episodes[i].rule == rule && strcmp(this->episodes[i].service, service) == 0)
         return &this->episodes[i].episode;
   }
   Util_growArray((void**)&this->episodes, &this->episodeCap, this->episodeCount, sizeof(WatchStateEpisode));
   WatchStateEpisode* e = &this->episodes[this->episodeCount++];
   memset(e, 0, sizeof(*e));
   e->service = Util_xstrdup(service);
   e->rule = rule;
   return &e->episode;
}

void WatchState_retainServices(WatchState* this, const char* const* keep, size_t count) {
   size_t w = 0;
   for (size_t i = 0; i < this->episodeCount; i++) {
      bool kept = false;
      for (size_t k = 0; k < count && !kept; k++)
         kept = strcmp(this->episodes[i].service, keep[k]) == 0;
      if (kept)
         this->episodes[w++] = this->episodes[i];
      else
         free(this->episodes[i].service);
   }
   this->episodeCount = w;
}

void WatchState_addBundle(WatchState* this, const char* stem, unsigned long long size) {
   Util_growArray((void**)&this->bundles, &this->bundleCap, this->bundleCount, sizeof(WatchStateBundle));
   this->bundles[this->bundleCount++] =
       (WatchStateBundle){ .seq = this->nextSeq++, .size = size, .stem = Util_xstrdup(stem) };
}

/* ---- file format */

int WatchState_save(const WatchState* this, int dirFd, char* err, size_t errSize) {
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   if (!f) {
      Util_format(err, errSize, "out of memory saving the state");
      return -1;
   }
   char boot[64];
   bootId(boot, sizeof(boot));
   fprintf(f, "%s\nclock %s %.6f %.6f\nseq %llu\n", STATE_MAGIC, boot, WatchState_now(), Util_wallSeconds(),
           this->nextSeq);
   for (size_t i = 0; i < this->cap.count; i++)
      fprintf(f, "cap %.6f\n", this->cap.times[i]);
   for (size_t i = 0; i < this->episodeCount; i++) {
      const WatchStateEpisode* e = &this->episodes[i];
      const RuleEpisode* ep = &e->episode;
      char name[1024];
      encodeName(e->service, name, sizeof(name));
      fprintf(f, "episode %s %d %d %d %d %d %.6f %s\n", Rule_name(e->rule), ep->failing, ep->firedThisEpisode,
              ep->capLogged, ep->everFired, ep->pending, ep->lastFiredAt, name);
   }
   for (size_t i = 0; i < this->bundleCount; i++)
      fprintf(f, "bundle %llu %llu %s\n", this->bundles[i].seq, this->bundles[i].size, this->bundles[i].stem);
   fclose(f);
   int rc = BundleDir_write(dirFd, STATE_NAME, text, len, err, errSize);
   free(text);
   return rc;
}

/* Maps a time saved on another boot (or a clock read before a backward
 * step) onto this boot's clock, never into the future. */
typedef struct ClockShift_ {
   double shift;
   double now;
} ClockShift;

static double carry(const ClockShift* c, double t) {
   double v = t + c->shift;
   return v > c->now ? c->now : v;
}

static int parseLine(WatchState* this, char* line, ClockShift* clock) {
   char word[32];
   int used = 0;
   if (sscanf(line, "%31s %n", word, &used) != 1)
      return line[0] == '\0' ? 0 : -1;
   char* rest = line + used;
   if (strcmp(word, "clock") == 0) {
      char boot[64], nowBoot[64];
      double savedBoot, savedWall;
      if (sscanf(rest, "%63s %lf %lf", boot, &savedBoot, &savedWall) != 3)
         return -1;
      bootId(nowBoot, sizeof(nowBoot));
      clock->now = WatchState_now();
      clock->shift = strcmp(boot, nowBoot) == 0 ? 0 : (savedWall - savedBoot) + (clock->now - Util_wallSeconds());
      return 0;
   }
   if (strcmp(word, "seq") == 0)
      return sscanf(rest, "%llu", &this->nextSeq) == 1 ? 0 : -1;
   if (strcmp(word, "cap") == 0) {
      double t;
      if (sscanf(rest, "%lf", &t) != 1)
         return -1;
      if (this->cap.count < RULES_CAP_MAX)
         this->cap.times[this->cap.count++] = carry(clock, t);
      return 0;
   }
   if (strcmp(word, "episode") == 0) {
      char rule[64], name[1024];
      int failing, fired, capLogged, ever, pending;
      double last;
      if (sscanf(rest, "%63s %d %d %d %d %d %lf %1023s", rule, &failing, &fired, &capLogged, &ever, &pending, &last,
                 name) != 8 ||
          Rule_byName(rule) < 0)
         return -1;
      decodeName(name);
      RuleEpisode* ep = WatchState_episode(this, name, (RuleKind)Rule_byName(rule));
      *ep = (RuleEpisode){ .failing = failing,
                           .firedThisEpisode = fired,
                           .capLogged = capLogged,
                           .everFired = ever,
                           .pending = pending,
                           .lastFiredAt = carry(clock, last) };
      return 0;
   }
   if (strcmp(word, "bundle") == 0) {
      unsigned long long seq, size;
      char stem[512];
      if (sscanf(rest, "%llu %llu %511s", &seq, &size, stem) != 3 || !BundleDir_isName(stem))
         return -1;
      Util_growArray((void**)&this->bundles, &this->bundleCap, this->bundleCount, sizeof(WatchStateBundle));
      this->bundles[this->bundleCount++] = (WatchStateBundle){ .seq = seq, .size = size, .stem = Util_xstrdup(stem) };
      if (seq >= this->nextSeq)
         this->nextSeq = seq + 1;
      return 0;
   }
   return -1;
}

int WatchState_load(WatchState* this, int dirFd, char* err, size_t errSize) {
   clearEntries(this);
   size_t len;
   char* text = BundleDir_read(dirFd, STATE_NAME, STATE_MAX_BYTES, &len);
   if (!text && errno == ENOENT)
      return 0;
   if (!text) {
      Util_format(err, errSize, "cannot read bundle_dir/%s: %s", STATE_NAME, strerror(errno));
      return -1;
   }
   ClockShift clock = { .shift = 0, .now = WatchState_now() };
   int bad = strncmp(text, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1) != 0;
   char* save = NULL;
   int lineNo = 1;
   for (char* line = strtok_r(text + (bad ? 0 : strlen(STATE_MAGIC) + 1), "\n", &save); line && !bad;
        line = strtok_r(NULL, "\n", &save)) {
      lineNo++;
      bad = parseLine(this, line, &clock) < 0;
   }
   free(text);
   if (!bad)
      return 0;
   clearEntries(this);
   renameat(dirFd, STATE_NAME, dirFd, STATE_NAME ".corrupt");
   Util_format(err, errSize,
               "bundle_dir/%s is damaged (line %d); moved to %s.corrupt and starting afresh (cooldowns and the "
               "hourly cap start from zero)",
               STATE_NAME, lineNo, STATE_NAME);
   return 1;
}

bool WatchState_changed(int dirFd, WatchStateStamp* stamp) {
   struct stat sb;
   WatchStateStamp now = { 0 };
   if (fstatat(dirFd, STATE_NAME, &sb, AT_SYMLINK_NOFOLLOW) == 0)
      now = (WatchStateStamp){ .ino = (unsigned long long)sb.st_ino,
                               .size = (unsigned long long)sb.st_size,
                               .mtimeNs = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec };
   bool changed = memcmp(&now, stamp, sizeof(now)) != 0;
   *stamp = now;
   return changed;
}

/* ---- retention */

static void removeBundleFiles(int dirFd, const char* stem) {
   char name[600];
   Util_format(name, sizeof(name), "%s.tar.gz", stem);
   BundleDir_remove(dirFd, name);
   Util_format(name, sizeof(name), "%s.FAILED", stem);
   BundleDir_remove(dirFd, name);
}

size_t WatchState_prune(WatchState* this, int dirFd, unsigned long keep, unsigned long long maxBytes,
                        bool (*pinned)(void* ctx, const char* stem), void* ctx) {
   unsigned long long total = 0;
   size_t w = 0, removed = 0;
   /* Entries whose file is gone (removed by hand) no longer count. */
   for (size_t i = 0; i < this->bundleCount; i++) {
      WatchStateBundle b = this->bundles[i];
      char name[600];
      struct stat sb;
      Util_format(name, sizeof(name), "%s.tar.gz", b.stem);
      if (fstatat(dirFd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) {
         free(b.stem);
         continue;
      }
      b.size = (unsigned long long)sb.st_size;
      total += b.size;
      this->bundles[w++] = b;
   }
   size_t count = w;
   this->bundleCount = count;
   size_t left = count;
   w = 0;
   for (size_t i = 0; i < count; i++) {
      WatchStateBundle* b = &this->bundles[i];
      bool overCount = keep > 0 && left > keep;
      bool overSize = maxBytes > 0 && total > maxBytes;
      bool newest = i + 1 == count;
      if ((overCount || overSize) && !newest && !(pinned && pinned(ctx, b->stem))) {
         removeBundleFiles(dirFd, b->stem);
         left--;
         total -= b->size;
         removed++;
         free(b->stem);
         continue;
      }
      this->bundles[w++] = *b;
   }
   this->bundleCount = w;
   return removed;
}
