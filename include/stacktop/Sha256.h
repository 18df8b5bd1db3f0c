#ifndef STACKTOP_SHA256_H
#define STACKTOP_SHA256_H
/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): the watcher signs the
 * records it leaves in bundle_dir (pending mails, incidents) so that a file it
 * did not write is never acted on. */
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

typedef struct Sha256_ {
   uint32_t h[8];
   uint64_t bytes;
   unsigned char block[64];
   size_t used;
} Sha256;

void Sha256_init(Sha256* this);
void Sha256_update(Sha256* this, const void* data, size_t len);
void Sha256_final(Sha256* this, unsigned char out[SHA256_BYTES]);

/* HMAC-SHA256 of the concatenation of `parts` (count pieces) under key. */
typedef struct Sha256Part_ {
   const void* data;
   size_t len;
} Sha256Part;
void Sha256_hmac(const unsigned char* key, size_t keyLen, const Sha256Part* parts, size_t count,
                 unsigned char out[SHA256_BYTES]);
/* Lower-case hex of a digest into out (2 * SHA256_BYTES + 1 bytes). */
void Sha256_hex(const unsigned char digest[SHA256_BYTES], char* out);
/* Constant-time comparison of two equally long byte strings. */
int Sha256_equal(const void* a, const void* b, size_t len);

#endif
