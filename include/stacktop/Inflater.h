#ifndef STACKTOP_INFLATER_H
#define STACKTOP_INFLATER_H
/* Random access into one zlib stream (a compressed ELF section), inflated
 * into a region the caller provides and only where it is asked for.
 *
 * The stream is inflated forwards on demand; at block boundaries every `span`
 * output bytes a checkpoint (input position, bit offset, zlib's 32 KiB window)
 * is kept, at most INFLATER_MAX_CHECKPOINTS of them, so bytes behind the
 * stream are re-inflated from the nearest checkpoint instead of from the
 * start. Output is tracked per 4 KiB page: pinned pages stay; other inflated
 * pages are kept up to `keepBytes` and then dropped (MADV_DONTNEED, oldest
 * first) to be re-inflated if they are needed again. So memory is bounded by
 * keepBytes + the pinned pages + the checkpoints (<= 8 MiB), whatever the
 * section's size, and time by what is asked for (plus at most `span` bytes
 * per re-inflation).
 *
 * The input is hostile: a corrupt stream makes ensure fail (for that range
 * and everything after the error), never read or write out of bounds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INFLATER_PAGE 4096u
#define INFLATER_MAX_CHECKPOINTS 256u

typedef struct Inflater_ Inflater;

typedef enum InflaterFormat_ {
   INFLATER_ZLIB, /* a zlib stream (RFC 1950): ELF SHF_COMPRESSED ELFCOMPRESS_ZLIB, GNU .zdebug_* */
   INFLATER_RAW,  /* bare deflate data (RFC 1951) */
} InflaterFormat;

/* in: the compressed bytes (not owned; must outlive the Inflater). out: a
 * page-aligned, zero-filled, writable region of outSize bytes (normally an
 * anonymous mapping; not owned) that receives the inflated bytes at their
 * offsets. NULL when zlib cannot be initialised. */
Inflater* Inflater_new(const uint8_t* in, size_t inSize, InflaterFormat format, uint8_t* out, size_t outSize,
                       size_t keepBytes);
void Inflater_free(Inflater* this);
/* Makes out[offset, offset+len) hold the inflated bytes (clamped to outSize).
 * pin: those pages are never dropped (callers hand out pointers into them).
 * False when the stream is corrupt or ends before offset+len. */
bool Inflater_ensure(Inflater* this, uint64_t offset, uint64_t len, bool pin);
/* The pages of [offset, offset+len) are kept only within the budget again
 * (whoever pinned them no longer reads them). */
void Inflater_unpin(Inflater* this, uint64_t offset, uint64_t len);
/* Pages of out currently holding inflated bytes, pinned or not, in bytes. */
size_t Inflater_residentBytes(const Inflater* this);
size_t Inflater_pinnedBytes(const Inflater* this);
/* Output bytes inflated so far in total (re-inflations included). */
uint64_t Inflater_inflatedBytes(const Inflater* this);

#endif
