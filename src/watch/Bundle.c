/* Bundle archives and their retention. */
#include "stacktop/Bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/ArchiveApi.h"
#include "stacktop/Util.h"

#define BUNDLE_SUFFIX ".tar.gz"

struct Bundle_ {
   const ArchiveApi* api; /* process-wide, not owned */
   struct archive* archive;
   int fd;
   char top[256]; /* top directory inside the archive */
   char tmpPath[PATH_MAX];
   char finalPath[PATH_MAX];
   time_t mtime;
   bool failed;
   char error[256];
};

int Bundle_ensureDir(const char* dir, char* err, size_t errSize) {
   char path[PATH_MAX];
   Util_format(path, sizeof(path), "%s", dir);
   /* mkdir -p: parents get the usual 0755, the bundle directory itself 0700. */
   for (char* p = path + 1; *p; p++) {
      if (*p != '/')
         continue;
      *p = '\0';
      if (mkdir(path, 0755) != 0 && errno != EEXIST) {
         Util_format(err, errSize, "cannot create %s: %s", path, strerror(errno));
         return -1;
      }
      *p = '/';
   }
   if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      Util_format(err, errSize, "cannot create bundle_dir %s: %s", path, strerror(errno));
      return -1;
   }
   struct stat sb;
   if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
      Util_format(err, errSize, "bundle_dir %s is not a directory", path);
      return -1;
   }
   /* chmod cannot make another user's directory private: its owner can open
    * it again and plant symlinks where the bundles and mail queue are written. */
   if (sb.st_uid != geteuid()) {
      Util_format(err, errSize,
                  "bundle_dir %s is owned by uid %u, not by uid %u running stacktop; "
                  "expected a private directory (chown it or choose another bundle_dir)",
                  path, (unsigned)sb.st_uid, (unsigned)geteuid());
      return -1;
   }
   if ((sb.st_mode & 0777) != 0700 && chmod(path, 0700) != 0) {
      Util_format(err, errSize, "cannot make bundle_dir %s private (chmod 0700): %s", path, strerror(errno));
      return -1;
   }
   return 0;
}

static void sanitize(char* out, size_t size, const char* in) {
   size_t o = 0;
   for (; *in && o + 1 < size; in++) {
      char c = *in;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
      out[o++] = ok ? c : '_';
   }
   out[o] = '\0';
}

void Bundle_name(char* buf, size_t size, const char* host, const char* service, const char* rule, double wallTime) {
   char h[80], s[80], r[64], stamp[32];
   sanitize(h, sizeof(h), host);
   sanitize(s, sizeof(s), service);
   sanitize(r, sizeof(r), rule);
   time_t t = (time_t)wallTime;
   struct tm tm;
   gmtime_r(&t, &tm);
   strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
   Util_format(buf, size, "%s-%s-%s-%s%s", h, s, r, stamp, BUNDLE_SUFFIX);
}

/* The final name must not overwrite an older bundle of the same second. */
static void chooseFinalPath(Bundle* b, const char* dir, const char* name) {
   size_t stem = strlen(name) - strlen(BUNDLE_SUFFIX);
   Util_format(b->finalPath, sizeof(b->finalPath), "%s/%s", dir, name);
   Util_format(b->top, sizeof(b->top), "%.*s", (int)stem, name);
   for (int i = 2; access(b->finalPath, F_OK) == 0 && i < 1000; i++) {
      Util_format(b->top, sizeof(b->top), "%.*s-%d", (int)stem, name, i);
      Util_format(b->finalPath, sizeof(b->finalPath), "%s/%s%s", dir, b->top, BUNDLE_SUFFIX);
   }
}

Bundle* Bundle_create(const char* dir, const char* host, const char* service, const char* rule, double wallTime,
                      char* err, size_t errSize) {
   char name[300];
   Bundle_name(name, sizeof(name), host, service, rule, wallTime);
   const ArchiveApi* api = ArchiveApi_get(err, errSize);
   if (!api)
      return NULL;
   Bundle* b = Util_xcalloc(1, sizeof(Bundle));
   b->api = api;
   chooseFinalPath(b, dir, name);
   b->mtime = (time_t)wallTime;
   Util_format(b->tmpPath, sizeof(b->tmpPath), "%s/.%s.tmp", dir, b->top);
   b->fd = open(b->tmpPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
   if (b->fd < 0) {
      Util_format(err, errSize, "cannot create %s: %s", b->tmpPath, strerror(errno));
      free(b);
      return NULL;
   }
   b->archive = api->writeNew();
   if (api->writeAddFilterGzip(b->archive) != ARCHIVE_OK ||
       api->writeSetFormatPaxRestricted(b->archive) != ARCHIVE_OK ||
       api->writeOpenFd(b->archive, b->fd) != ARCHIVE_OK) {
      Util_format(err, errSize, "cannot start %s: %s", b->tmpPath, api->errorString(b->archive));
      Bundle_abort(b);
      return NULL;
   }
   return b;
}

int Bundle_addData(Bundle* this, const char* name, const void* data, size_t len) {
   if (this->failed)
      return -1;
   const ArchiveApi* api = this->api;
   char path[600];
   Util_format(path, sizeof(path), "%s/%s", this->top, name);
   struct archive_entry* e = api->entryNew();
   api->entrySetPathname(e, path);
   api->entrySetSize(e, (la_int64_t)len);
   api->entrySetFiletype(e, AE_IFREG);
   api->entrySetPerm(e, 0600);
   api->entrySetMtime(e, this->mtime, 0);
   int rc = api->writeHeader(this->archive, e);
   if (rc == ARCHIVE_OK && len > 0 && api->writeData(this->archive, data, len) != (la_ssize_t)len)
      rc = ARCHIVE_FATAL;
   api->entryFree(e);
   if (rc != ARCHIVE_OK) {
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "writing %s into %s: %s", name, this->tmpPath,
                  api->errorString(this->archive));
      return -1;
   }
   return 0;
}

int Bundle_addText(Bundle* this, const char* name, const char* text) {
   return Bundle_addData(this, name, text, strlen(text));
}

static void closeArchive(Bundle* this) {
   if (this->archive) {
      if (this->api->writeClose(this->archive) != ARCHIVE_OK && !this->failed) {
         this->failed = true;
         Util_format(this->error, sizeof(this->error), "finishing %s: %s", this->tmpPath,
                     this->api->errorString(this->archive));
      }
      this->api->writeFree(this->archive);
      this->archive = NULL;
   }
}

int Bundle_finish(Bundle* this, char* path, size_t pathSize, char* err, size_t errSize) {
   closeArchive(this);
   if (!this->failed && fsync(this->fd) != 0) {
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "syncing %s: %s", this->tmpPath, strerror(errno));
   }
   close(this->fd);
   this->fd = -1;
   if (!this->failed && rename(this->tmpPath, this->finalPath) != 0) {
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "renaming %s: %s", this->tmpPath, strerror(errno));
   }
   if (this->failed) {
      Util_format(err, errSize, "%s", this->error);
      unlink(this->tmpPath);
      free(this);
      return -1;
   }
   Util_format(path, pathSize, "%s", this->finalPath);
   free(this);
   return 0;
}

void Bundle_abort(Bundle* this) {
   if (this->archive)
      this->api->writeFree(this->archive);
   if (this->fd >= 0)
      close(this->fd);
   unlink(this->tmpPath);
   free(this);
}

typedef struct OldBundle_ {
   char* path;
   time_t mtime;
   unsigned long long size;
} OldBundle;

static int byAge(const void* a, const void* b) {
   const OldBundle* x = a;
   const OldBundle* y = b;
   if (x->mtime != y->mtime)
      return x->mtime < y->mtime ? -1 : 1;
   return strcmp(x->path, y->path);
}

static bool isBundleName(const char* name) {
   size_t len = strlen(name), sl = strlen(BUNDLE_SUFFIX);
   return name[0] != '.' && len > sl && strcmp(name + len - sl, BUNDLE_SUFFIX) == 0;
}

/* Every bundle in dir, oldest first. Caller frees paths and array. */
static OldBundle* listBundles(const char* dir, size_t* count) {
   *count = 0;
   DIR* d = opendir(dir);
   if (!d)
      return NULL;
   OldBundle* list = NULL;
   size_t cap = 0;
   struct dirent* e;
   while ((e = readdir(d))) {
      if (!isBundleName(e->d_name))
         continue;
      char path[PATH_MAX];
      struct stat sb;
      Util_format(path, sizeof(path), "%s/%s", dir, e->d_name);
      if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
         continue;
      Util_growArray((void**)&list, &cap, *count, sizeof(OldBundle));
      list[(*count)++] =
          (OldBundle){ .path = Util_xstrdup(path), .mtime = sb.st_mtime, .size = (unsigned long long)sb.st_size };
   }
   closedir(d);
   if (*count)
      qsort(list, *count, sizeof(OldBundle), byAge);
   return list;
}

size_t Bundle_prune(const char* dir, unsigned long keep, unsigned long long maxBytes,
                    bool (*pinned)(const char* path)) {
   size_t count;
   OldBundle* list = listBundles(dir, &count);
   unsigned long long total = 0;
   for (size_t i = 0; i < count; i++)
      total += list[i].size;
   size_t left = count, removed = 0;
   for (size_t i = 0; i < count; i++) {
      bool overCount = keep > 0 && left > keep;
      bool overSize = maxBytes > 0 && total > maxBytes;
      /* The newest bundle always stays: it is the one just written. */
      if ((overCount || overSize) && i + 1 < count && !(pinned && pinned(list[i].path)) && unlink(list[i].path) == 0) {
         left--;
         total -= list[i].size;
         removed++;
      }
      free(list[i].path);
   }
   free(list);
   return removed;
}
