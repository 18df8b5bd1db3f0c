#ifndef STACKTOP_RECORD_H
#define STACKTOP_RECORD_H
/* The records stacktop leaves in bundle_dir for itself (pending mails,
 * incidents not yet bundled): "key: value" lines, a blank line and a free
 * text. The first line names the kind and carries an HMAC-SHA256, under the
 * directory's key (BundleDir_key), of the file's name and everything after
 * that line: a file stacktop did not write, one edited, or one renamed, is
 * never acted on. Values are kept as single printable lines and the text
 * keeps only its newlines (Printable), so nothing read back can smuggle a
 * line into a header or a terminal. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/BundleDir.h"

typedef struct RecordField_ {
   char* key;
   char* value;
} RecordField;

typedef struct Record_ {
   char* kind;
   RecordField* fields;
   size_t count, cap;
   char* body; /* "" when none */
} Record;

typedef enum RecordStatus_ {
   RECORD_OK,
   RECORD_MISSING,   /* no such file (errno kept) */
   RECORD_FORGED,    /* not written by stacktop under this key, or not ours */
   RECORD_MALFORMED, /* signed but unparseable: a bug or an older format */
} RecordStatus;

#define RECORD_MAX_BYTES (1u << 20)

void Record_init(Record* this, const char* kind);
void Record_free(Record* this);
/* Appends a field (keys may repeat); the value is made printable. */
void Record_set(Record* this, const char* key, const char* value);
void Record_setf(Record* this, const char* key, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
/* Replaces the first field named key, or appends it. */
void Record_replace(Record* this, const char* key, const char* value);
void Record_setBody(Record* this, const char* body);
/* The first value of key, or NULL. */
const char* Record_get(const Record* this, const char* key);
double Record_getDouble(const Record* this, const char* key, double fallback);

/* Signs and writes dirFd/name atomically. Returns 0, or -1 with a message. */
int Record_save(const Record* this, int dirFd, const char* name, const unsigned char key[BUNDLEDIR_KEY_BYTES],
                char* err, size_t errSize);
/* Reads and verifies dirFd/name as a record of `kind`. On anything but
 * RECORD_OK the record is left empty and err says why. */
RecordStatus Record_load(Record* this, int dirFd, const char* name, const char* kind,
                         const unsigned char key[BUNDLEDIR_KEY_BYTES], char* err, size_t errSize);
/* Moves a file that must not be acted on out of the way: NAME.quarantined
 * (kept for a person to look at). Returns 0 or -1 (errno). */
int Record_quarantine(int dirFd, const char* name);

#endif
