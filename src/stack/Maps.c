/* /proc/PID/maps parsing: one entry per well-formed line, sorted by start. */
#include "stacktop/Maps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stacktop/Util.h"

/* /proc/PID/maps of a huge process stays far below this. */
#define MAPS_MAX_BYTES (64u << 20)

/* Bigger ELF files are not copied (their frames stay unnamed): the copy
 * lives in RAM (tmpfs) for the whole dump. */
#define COPY_MAX_BYTES (512ull << 20)

static const char DELETED_SUFFIX[] = " (deleted)";

/* Parses one NUL-terminated line ("start-end perms offset major:minor inode [path]"). */
static bool parseLine(const char* line, MapEntry* e) {
   uint64_t start, end, offset;
   unsigned long major, minor, inode;
   char perms[5];
   int pathPos = -1;
   if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %lx:%lx %lu %n", &start, &end, perms, &offset, &major,
              &minor, &inode, &pathPos) < 7 ||
       pathPos < 0)
      return false;
   if (end <= start || strlen(perms) != 4 || line[0] == '-' || line[0] == '+')
      return false;
   const char* path = line + pathPos;
   size_t pathLen = strlen(path);
   *e = (MapEntry){
      .start = start,
      .end = end,
      .offset = offset,
      .read = perms[0] == 'r',
      .write = perms[1] == 'w',
      .exec = perms[2] == 'x',
      .devMajor = major,
      .devMinor = minor,
      .inode = inode,
   };
   size_t suffixLen = sizeof(DELETED_SUFFIX) - 1;
   e->deleted = path[0] == '/' && pathLen > suffixLen && strcmp(path + pathLen - suffixLen, DELETED_SUFFIX) == 0;
   e->path = Util_xstrdup(path);
   return true;
}

static int entryCompare(const void* pa, const void* pb) {
   const MapEntry* a = pa;
   const MapEntry* b = pb;
   if (a->start != b->start)
      return a->start < b->start ? -1 : 1;
   if (a->end != b->end)
      return a->end < b->end ? -1 : 1;
   return 0;
}

/* The kernel never reports overlapping mappings; crafted text might. Keeping
 * only the first of overlapping entries keeps Maps_find's answer unique. */
static void dropOverlaps(Maps* this) {
   size_t kept = 0;
   for (size_t i = 0; i < this->count; i++) {
      MapEntry* e = &this->entries[i];
      if (kept > 0 && e->start < this->entries[kept - 1].end) {
         free(e->path);
         continue;
      }
      this->entries[kept++] = *e;
   }
   this->count = kept;
}

static bool isBlank(const char* text, size_t len) {
   for (size_t i = 0; i < len; i++)
      if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
         return false;
   return true;
}

int Maps_parse(Maps* this, const char* text, size_t len) {
   this->entries = NULL;
   this->count = 0;
   /* A private NUL-terminated copy: the input may be any bytes. */
   char* copy = Util_xmalloc(len + 1);
   memcpy(copy, text, len);
   copy[len] = '\0';
   size_t capacity = 0;
   bool sorted = true;
   char* save = NULL;
   for (char* line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      MapEntry e;
      if (!parseLine(line, &e))
         continue;
      Util_growArray((void**)&this->entries, &capacity, this->count, sizeof(MapEntry));
      if (this->count && this->entries[this->count - 1].start > e.start)
         sorted = false;
      this->entries[this->count++] = e;
   }
   free(copy);
   if (!sorted)
      qsort(this->entries, this->count, sizeof(MapEntry), entryCompare);
   dropOverlaps(this);
   return this->count == 0 && !isBlank(text, len) ? -1 : 0;
}

int Maps_read(Maps* this, pid_t pid, char* err, size_t errSize) {
   char path[64];
   Util_format(path, sizeof(path), "/proc/%d/maps", (int)pid);
   size_t len = 0;
   char* text = Util_slurp(path, MAPS_MAX_BYTES, &len);
   if (!text) {
      Util_format(err, errSize, "cannot read %s: %s (is pid %d running, and are you allowed to trace it?)", path,
                  strerror(errno), (int)pid);
      this->entries = NULL;
      this->count = 0;
      return -1;
   }
   int rc = Maps_parse(this, text, len);
   free(text);
   if (rc < 0 || this->count == 0) {
      Util_format(err, errSize, "%s has no usable mappings (kernel thread or exiting process?)", path);
      Maps_free(this);
      return -1;
   }
   return 0;
}

const MapEntry* Maps_find(const Maps* this, uint64_t addr) {
   size_t lo = 0, hi = this->count;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->entries[mid].start <= addr)
         lo = mid + 1;
      else
         hi = mid;
   }
   if (lo == 0)
      return NULL;
   const MapEntry* e = &this->entries[lo - 1];
   return addr < e->end ? e : NULL;
}

/* Paths come from a possibly hostile process: only regular files are opened
 * (no device side effects), and O_NONBLOCK keeps a FIFO swapped in after the
 * stat from blocking us; callers re-check the open fd with fstat. */
static int openRegular(const char* path) {
   struct stat st;
   if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      return -1;
   return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

/* Opens path only when it is the very file of the mapping (same dev+inode). */
static int openIdentical(const char* path, const MapEntry* e) {
   int fd = openRegular(path);
   if (fd < 0)
      return -1;
   struct stat st;
   if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == makedev(e->devMajor, e->devMinor) &&
       st.st_ino == e->inode)
      return fd;
   close(fd);
   return -1;
}

static bool isElf(int fd) {
   unsigned char magic[4];
   return pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) && memcmp(magic,
                                                                                 "\x7f"
                                                                                 "ELF",
                                                                                 4) == 0;
}

/* Copies with sendfile (kernel to kernel, no user buffer); a file that shrinks
 * meanwhile just gives a shorter copy. Returns the bytes copied, or -1. */
static off_t copyAll(int from, int to, off_t size) {
   off_t done = 0;
   while (done < size) {
      ssize_t n = sendfile(to, from, &done, (size_t)(size - done));
      if (n < 0 && errno == EINTR)
         continue;
      if (n < 0)
         return -1;
      if (n == 0)
         break;
   }
   return done;
}

int Maps_sealedCopy(int fd) {
   struct stat st;
   if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > COPY_MAX_BYTES ||
       !isElf(fd)) {
      close(fd);
      return -1;
   }
   int copy = memfd_create("stacktop-elf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
   off_t copied = copy < 0 ? -1 : copyAll(fd, copy, st.st_size);
   close(fd);
   if (copied <= 0 || fcntl(copy, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
      if (copy >= 0)
         close(copy);
      return -1;
   }
   return copy;
}

static int openMappedFile(pid_t pid, const MapEntry* e) {
   if (e->path[0] != '/')
      return -1;
   char path[4096], buf[4200];
   size_t len = strlen(e->path);
   if (e->deleted)
      len -= strlen(DELETED_SUFFIX);
   Util_format(path, sizeof(path), "%.*s", (int)len, e->path);
   int fd = e->deleted ? -1 : openIdentical(path, e);
   if (fd >= 0)
      return fd;
   /* Deleted files, and device numbers that differ between maps and stat
    * (overlayfs, btrfs): the kernel's own handle is always the right file. */
   Util_format(buf, sizeof(buf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, e->start, e->end);
   fd = openRegular(buf);
   if (fd >= 0)
      return fd;
   Util_format(buf, sizeof(buf), "/proc/%d/root%s", (int)pid, path);
   return openIdentical(buf, e);
}

int Maps_openFile(pid_t pid, const MapEntry* e) {
   int fd = openMappedFile(pid, e);
   return fd < 0 ? -1 : Maps_sealedCopy(fd);
}

void Maps_free(Maps* this) {
   for (size_t i = 0; i < this->count; i++)
      free(this->entries[i].path);
   free(this->entries);
   this->entries = NULL;
   this->count = 0;
}
