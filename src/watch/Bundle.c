/* Bundle archives; see Bundle.h. */
#include "stacktop/Bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stacktop/ArchiveApi.h"
#include "stacktop/BundleDir.h"
#include "stacktop/Util.h"

struct Bundle_ {
   const ArchiveApi* api; /* process-wide, not owned */
   struct archive* archive;
   int dirFd; /* not owned */
   int fd;
   char top[NAME_MAX + 1]; /* top directory inside the archive: NAME */
   char tmpName[NAME_MAX + 1];
   char finalName[NAME_MAX + 1];
   time_t mtime;
   bool failed;
   char error[512];
};

/* libarchive's message, with the system's reason when there is one ("Write
 * error" alone does not say that the disk is full). */
static void archiveError(const Bundle* b, char* buf, size_t size) {
   const char* what = b->api->errorString(b->archive);
   int e = b->api->errnoOf(b->archive);
   if (e > 0)
      Util_format(buf, size, "%s (%s)", what ? what : "error", strerror(e));
   else
      Util_format(buf, size, "%s", what ? what : "error");
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

void Bundle_stem(char* buf, size_t size, const char* host, const char* service, const char* rule, double wallTime) {
   char h[80], s[80], r[64], stamp[32];
   sanitize(h, sizeof(h), host);
   sanitize(s, sizeof(s), service);
   sanitize(r, sizeof(r), rule);
   time_t t = (time_t)wallTime;
   struct tm tm;
   gmtime_r(&t, &tm);
   strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
   Util_format(buf, size, "%s-%s-%s-%s", h, s, r, stamp);
}

Bundle* Bundle_create(int dirFd, const char* stem, double wallTime, char* err, size_t errSize) {
   const ArchiveApi* api = ArchiveApi_get(err, errSize);
   if (!api)
      return NULL;
   Bundle* b = Util_xcalloc(1, sizeof(Bundle));
   b->api = api;
   b->dirFd = dirFd;
   b->mtime = (time_t)wallTime;
   Util_format(b->top, sizeof(b->top), "%s", stem);
   Util_format(b->finalName, sizeof(b->finalName), "%s%s", stem, BUNDLE_SUFFIX);
   Util_format(b->tmpName, sizeof(b->tmpName), ".%s%s", stem, BUNDLE_TMP_SUFFIX);
   b->fd = BundleDir_create(dirFd, b->tmpName, O_TRUNC);
   if (b->fd < 0) {
      Util_format(err, errSize, "cannot create %s in bundle_dir: %s", b->tmpName, strerror(errno));
      free(b);
      return NULL;
   }
   flock(b->fd, LOCK_EX | LOCK_NB); /* "being written": Bundle_removeLeftovers leaves it alone */
   b->archive = api->writeNew();
   if (api->writeAddFilterGzip(b->archive) != ARCHIVE_OK ||
       api->writeSetFormatPaxRestricted(b->archive) != ARCHIVE_OK ||
       api->writeOpenFd(b->archive, b->fd) != ARCHIVE_OK) {
      Util_format(err, errSize, "cannot start %s: %s", b->tmpName, api->errorString(b->archive));
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
      char why[300];
      archiveError(this, why, sizeof(why));
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "writing %s into %s: %s", name, this->tmpName, why);
      return -1;
   }
   return 0;
}

int Bundle_addText(Bundle* this, const char* name, const char* text) {
   return Bundle_addData(this, name, text, strlen(text));
}

static void closeArchive(Bundle* this) {
   if (!this->archive)
      return;
   if (this->api->writeClose(this->archive) != ARCHIVE_OK && !this->failed) {
      char why[300];
      archiveError(this, why, sizeof(why));
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "finishing %s: %s", this->tmpName, why);
   }
   this->api->writeFree(this->archive);
   this->archive = NULL;
}

int Bundle_finish(Bundle* this, unsigned long long* size, char* err, size_t errSize) {
   closeArchive(this);
   struct stat sb = { 0 };
   if (!this->failed && (fsync(this->fd) != 0 || fstat(this->fd, &sb) != 0)) {
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "syncing %s: %s", this->tmpName, strerror(errno));
   }
   close(this->fd);
   this->fd = -1;
   if (!this->failed && renameat(this->dirFd, this->tmpName, this->dirFd, this->finalName) != 0) {
      this->failed = true;
      Util_format(this->error, sizeof(this->error), "renaming %s: %s", this->tmpName, strerror(errno));
   }
   if (this->failed) {
      Util_format(err, errSize, "%s", this->error);
      unlinkat(this->dirFd, this->tmpName, 0);
      free(this);
      return -1;
   }
   fsync(this->dirFd);
   if (size)
      *size = (unsigned long long)sb.st_size;
   free(this);
   return 0;
}

void Bundle_abort(Bundle* this) {
   if (this->archive)
      this->api->writeFree(this->archive);
   if (this->fd >= 0)
      close(this->fd);
   unlinkat(this->dirFd, this->tmpName, 0);
   free(this);
}

size_t Bundle_removeLeftovers(int dirFd) {
   int fd = openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   DIR* d = fd >= 0 ? fdopendir(fd) : NULL;
   if (!d) {
      if (fd >= 0)
         close(fd);
      return 0;
   }
   size_t removed = 0, sl = strlen(BUNDLE_TMP_SUFFIX);
   struct dirent* e;
   while ((e = readdir(d))) {
      size_t len = strlen(e->d_name);
      if (e->d_name[0] != '.' || len <= sl + 1 || strcmp(e->d_name + len - sl, BUNDLE_TMP_SUFFIX) != 0)
         continue;
      /* A writer holds a lock on its temporary file; a dead one does not. */
      int tfd = BundleDir_openOwn(dirFd, e->d_name, NULL);
      if (tfd < 0)
         continue;
      if (flock(tfd, LOCK_EX | LOCK_NB) == 0)
         removed += BundleDir_remove(dirFd, e->d_name) == 0;
      close(tfd);
   }
   closedir(d);
   return removed;
}
