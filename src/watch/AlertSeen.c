/* Alert episodes already handled; see AlertSeen.h. */
#include "stacktop/AlertSeen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/BundleDir.h"
#include "stacktop/Util.h"

#define SEEN_NAME "alerts-seen"
#define SEEN_MAGIC "stacktop-alerts-seen 1"
#define SEEN_MAX_BYTES (1u << 20)

void AlertSeen_init(AlertSeen* this) {
   memset(this, 0, sizeof(*this));
}

void AlertSeen_free(AlertSeen* this) {
   free(this->items);
   memset(this, 0, sizeof(*this));
}

static bool storable(const char* s) {
   size_t n = strlen(s);
   return n > 0 && n <= ALERTSEEN_FIELD_MAX && strcspn(s, " \t\r\n") == n;
}

static AlertSeenEntry* find(AlertSeen* this, const char* fingerprint, const char* startsAt) {
   for (size_t i = 0; i < this->count; i++) {
      if (strcmp(this->items[i].fingerprint, fingerprint) == 0 && strcmp(this->items[i].startsAt, startsAt) == 0)
         return &this->items[i];
   }
   return NULL;
}

bool AlertSeen_check(AlertSeen* this, const char* fingerprint, const char* startsAt, double now) {
   AlertSeenEntry* e = find(this, fingerprint, startsAt);
   if (e)
      e->lastSeen = now;
   return e != NULL;
}

void AlertSeen_add(AlertSeen* this, const char* fingerprint, const char* startsAt, double now) {
   if (!storable(fingerprint) || !storable(startsAt))
      return;
   AlertSeenEntry* e = find(this, fingerprint, startsAt);
   if (!e) {
      Util_growArray((void**)&this->items, &this->cap, this->count, sizeof(AlertSeenEntry));
      e = &this->items[this->count++];
      Util_format(e->fingerprint, sizeof(e->fingerprint), "%s", fingerprint);
      Util_format(e->startsAt, sizeof(e->startsAt), "%s", startsAt);
   }
   e->lastSeen = now;
}

int AlertSeen_load(AlertSeen* this, int dirFd, char* err, size_t errSize) {
   this->count = 0;
   size_t len;
   char* text = BundleDir_read(dirFd, SEEN_NAME, SEEN_MAX_BYTES, &len);
   if (!text) {
      if (errno == ENOENT)
         return 0;
      Util_format(err, errSize, "cannot read %s in bundle_dir: %s", SEEN_NAME, strerror(errno));
      return -1;
   }
   char* save = NULL;
   char* line = strtok_r(text, "\n", &save);
   if (!line || strcmp(line, SEEN_MAGIC) != 0) {
      free(text); /* not ours, or an older format: start empty, it is rewritten */
      return 0;
   }
   while ((line = strtok_r(NULL, "\n", &save))) {
      char fp[ALERTSEEN_FIELD_MAX + 1], starts[ALERTSEEN_FIELD_MAX + 1];
      double when;
      char extra;
      if (sscanf(line, "%64s %64s %lf %c", fp, starts, &when, &extra) == 3)
         AlertSeen_add(this, fp, starts, when);
   }
   free(text);
   return 0;
}

static int byLastSeenDesc(const void* a, const void* b) {
   double x = ((const AlertSeenEntry*)a)->lastSeen, y = ((const AlertSeenEntry*)b)->lastSeen;
   return (y > x) - (y < x);
}

int AlertSeen_save(AlertSeen* this, int dirFd, double now, char* err, size_t errSize) {
   size_t keep = 0;
   for (size_t i = 0; i < this->count; i++) {
      if (now - this->items[i].lastSeen < ALERTSEEN_FORGET_S)
         this->items[keep++] = this->items[i];
   }
   this->count = keep;
   if (this->count > ALERTSEEN_MAX) {
      qsort(this->items, this->count, sizeof(AlertSeenEntry), byLastSeenDesc);
      this->count = ALERTSEEN_MAX;
   }
   char* text = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&text, &len);
   if (!f) {
      Util_format(err, errSize, "cannot write %s: out of memory", SEEN_NAME);
      return -1;
   }
   fprintf(f, "%s\n", SEEN_MAGIC);
   for (size_t i = 0; i < this->count; i++)
      fprintf(f, "%s %s %.3f\n", this->items[i].fingerprint, this->items[i].startsAt, this->items[i].lastSeen);
   fclose(f);
   int rc = BundleDir_write(dirFd, SEEN_NAME, text, len, err, errSize);
   free(text);
   return rc;
}
