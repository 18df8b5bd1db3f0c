/* Signed key-value records in bundle_dir; see Record.h. */
#include "stacktop/Record.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacktop/Printable.h"
#include "stacktop/Sha256.h"
#include "stacktop/Util.h"

#define RECORD_MAGIC "stacktop-record 1"

void Record_init(Record* this, const char* kind) {
   memset(this, 0, sizeof(*this));
   this->kind = Util_xstrdup(kind);
   this->body = Util_xstrdup("");
}

void Record_free(Record* this) {
   for (size_t i = 0; i < this->count; i++) {
      free(this->fields[i].key);
      free(this->fields[i].value);
   }
   free(this->fields);
   free(this->kind);
   free(this->body);
   memset(this, 0, sizeof(*this));
}

/* Keys are fixed identifiers chosen by stacktop: letters, digits, '_' and '-'. */
static bool isKey(const char* k) {
   if (!k[0])
      return false;
   for (; *k; k++) {
      char c = *k;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
         return false;
   }
   return true;
}

void Record_set(Record* this, const char* key, const char* value) {
   if (!isKey(key))
      return;
   Util_growArray((void**)&this->fields, &this->cap, this->count, sizeof(RecordField));
   this->fields[this->count++] = (RecordField){ .key = Util_xstrdup(key), .value = Printable_dup(value ? value : "") };
}

void Record_setf(Record* this, const char* key, const char* fmt, ...) {
   char buf[4096];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(buf, sizeof(buf), fmt, ap);
   va_end(ap);
   Record_set(this, key, buf);
}

void Record_replace(Record* this, const char* key, const char* value) {
   for (size_t i = 0; i < this->count; i++) {
      if (strcmp(this->fields[i].key, key) == 0) {
         free(this->fields[i].value);
         this->fields[i].value = Printable_dup(value ? value : "");
         return;
      }
   }
   Record_set(this, key, value);
}

void Record_setBody(Record* this, const char* body) {
   free(this->body);
   this->body = Printable_text(body ? body : "", body ? strlen(body) : 0, true, NULL);
}

const char* Record_get(const Record* this, const char* key) {
   for (size_t i = 0; i < this->count; i++) {
      if (strcmp(this->fields[i].key, key) == 0)
         return this->fields[i].value;
   }
   return NULL;
}

double Record_getDouble(const Record* this, const char* key, double fallback) {
   const char* v = Record_get(this, key);
   if (!v)
      return fallback;
   char* end;
   double d = strtod(v, &end);
   return end != v ? d : fallback;
}

static void mac(const unsigned char* key, const char* name, const char* content, size_t len, char* hex) {
   unsigned char digest[SHA256_BYTES];
   Sha256Part parts[] = { { name, strlen(name) + 1 }, { content, len } };
   Sha256_hmac(key, BUNDLEDIR_KEY_BYTES, parts, 2, digest);
   Sha256_hex(digest, hex);
}

int Record_save(const Record* this, int dirFd, const char* name, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                char* err, size_t errSize) {
   char* content = NULL;
   size_t len = 0;
   FILE* f = open_memstream(&content, &len);
   if (!f) {
      Util_format(err, errSize, "out of memory writing %s", name);
      return -1;
   }
   for (size_t i = 0; i < this->count; i++)
      fprintf(f, "%s: %s\n", this->fields[i].key, this->fields[i].value);
   fprintf(f, "\n%s", this->body);
   fclose(f);
   char hex[2 * SHA256_BYTES + 1];
   mac(key, name, content, len, hex);
   size_t headLen = strlen(RECORD_MAGIC) + strlen(this->kind) + sizeof(hex) + 4;
   char* whole = Util_xmalloc(headLen + len + 1);
   int n = snprintf(whole, headLen + 1, "%s %s %s\n", RECORD_MAGIC, this->kind, hex);
   memcpy(whole + n, content, len);
   int rc = BundleDir_write(dirFd, name, whole, (size_t)n + len, err, errSize);
   free(whole);
   free(content);
   return rc;
}

/* Parses the fields and body of verified content (NUL-terminated). */
static int parseContent(Record* this, char* content) {
   char* p = content;
   while (*p && *p != '\n') {
      char* eol = strchr(p, '\n');
      if (!eol)
         return -1;
      *eol = '\0';
      char* colon = strstr(p, ": ");
      if (!colon)
         return -1;
      *colon = '\0';
      if (!isKey(p))
         return -1;
      Record_set(this, p, colon + 2);
      p = eol + 1;
   }
   if (*p != '\n')
      return -1;
   free(this->body);
   this->body = Util_xstrdup(p + 1);
   return 0;
}

RecordStatus Record_load(Record* this, int dirFd, const char* name, const char* kind,
                         const unsigned char key[BUNDLEDIR_KEY_BYTES], char* err, size_t errSize) {
   Record_init(this, kind);
   size_t len;
   char* text = BundleDir_read(dirFd, name, RECORD_MAX_BYTES, &len);
   if (!text) {
      int saved = errno;
      Util_format(err, errSize, "%s: %s", name,
                  saved == EPERM ? "not a regular file of stacktop's own" : strerror(saved));
      errno = saved;
      return saved == ENOENT ? RECORD_MISSING : RECORD_FORGED;
   }
   char expectHead[128];
   Util_format(expectHead, sizeof(expectHead), "%s %s ", RECORD_MAGIC, kind);
   size_t hl = strlen(expectHead);
   char* eol = memchr(text, '\n', len);
   const size_t hexLen = 2 * SHA256_BYTES;
   if (len >= RECORD_MAX_BYTES || !eol || strncmp(text, expectHead, hl) != 0 || (size_t)(eol - text) != hl + hexLen ||
       memchr(text, '\0', len)) {
      Util_format(err, errSize, "%s: not a stacktop %s record", name, kind);
      free(text);
      return RECORD_FORGED;
   }
   char hex[2 * SHA256_BYTES + 1];
   char* content = eol + 1;
   size_t contentLen = len - (size_t)(content - text);
   mac(key, name, content, contentLen, hex);
   if (!Sha256_equal(hex, text + hl, hexLen)) {
      Util_format(err, errSize, "%s: its signature does not match (not written by this stacktop, or altered)", name);
      free(text);
      return RECORD_FORGED;
   }
   int rc = parseContent(this, content);
   free(text);
   if (rc < 0) {
      Record_free(this);
      Record_init(this, kind);
      Util_format(err, errSize, "%s: malformed %s record", name, kind);
      return RECORD_MALFORMED;
   }
   return RECORD_OK;
}

int Record_quarantine(int dirFd, const char* name) {
   char target[NAME_MAX + 1];
   Util_format(target, sizeof(target), "%s.quarantined", name);
   if (!BundleDir_isName(name) || strlen(name) + strlen(".quarantined") > NAME_MAX) {
      errno = ENAMETOOLONG;
      return -1;
   }
   return renameat(dirFd, name, dirFd, target);
}
