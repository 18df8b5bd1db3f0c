#ifndef STACKTOP_PROTOBUF_H
#define STACKTOP_PROTOBUF_H
/* A write-only protocol buffers encoder (wire format only, no schema): the
 * few field kinds pprof's profile.proto needs, appended to a growable byte
 * buffer. Nested messages are encoded into a buffer of their own and then
 * appended with Protobuf_message (their length must come first). The
 * buffer owns its bytes; Protobuf_free releases them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Protobuf_ {
   uint8_t* data;
   size_t len, cap;
} Protobuf;

/* Wire types (the low three bits of a field key). */
enum { PROTOBUF_VARINT = 0, PROTOBUF_LEN = 2 };

void Protobuf_init(Protobuf* this);
void Protobuf_free(Protobuf* this);
/* Empties the buffer, keeping its memory for reuse. */
void Protobuf_reset(Protobuf* this);

/* A bare varint (7 bits a byte, least significant first). */
void Protobuf_rawVarint(Protobuf* this, uint64_t v);
/* Field `field` as a varint: uint64, and bool/int64 as Go's encoder writes
 * them (negative int64 in ten bytes, two's complement). */
void Protobuf_uint64(Protobuf* this, uint32_t field, uint64_t v);
void Protobuf_int64(Protobuf* this, uint32_t field, int64_t v);
void Protobuf_bool(Protobuf* this, uint32_t field, bool v);
/* Length-delimited: bytes, a NUL-terminated string ("" is written: a
 * repeated string keeps its index), a nested message. */
void Protobuf_bytes(Protobuf* this, uint32_t field, const void* data, size_t len);
void Protobuf_string(Protobuf* this, uint32_t field, const char* s);
void Protobuf_message(Protobuf* this, uint32_t field, const Protobuf* message);
/* A packed repeated varint field (nothing when n is 0). */
void Protobuf_packed(Protobuf* this, uint32_t field, const uint64_t* values, size_t n);

#endif
