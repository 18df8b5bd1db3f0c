/* The protocol buffers wire format, encoding only: see Protobuf.h. */
#include "stacktop/Protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* A varint holds 7 bits a byte: a uint64 takes at most 10. */
#define VARINT_MAX 10

void Protobuf_init(Protobuf* this) {
   *this = (Protobuf){ 0 };
}

void Protobuf_free(Protobuf* this) {
   free(this->data);
   Protobuf_init(this);
}

void Protobuf_reset(Protobuf* this) {
   this->len = 0;
}

static void reserve(Protobuf* this, size_t more) {
   if (this->cap - this->len >= more)
      return;
   size_t cap = this->cap ? this->cap : 256;
   while (cap - this->len < more)
      cap *= 2;
   this->data = Util_xrealloc(this->data, cap);
   this->cap = cap;
}

static void append(Protobuf* this, const void* data, size_t len) {
   if (len == 0)
      return;
   reserve(this, len);
   memcpy(this->data + this->len, data, len);
   this->len += len;
}

void Protobuf_rawVarint(Protobuf* this, uint64_t v) {
   uint8_t buf[VARINT_MAX];
   size_t n = 0;
   while (v >= 0x80) {
      buf[n++] = (uint8_t)(v | 0x80);
      v >>= 7;
   }
   buf[n++] = (uint8_t)v;
   append(this, buf, n);
}

static void key(Protobuf* this, uint32_t field, unsigned wireType) {
   Protobuf_rawVarint(this, (uint64_t)field << 3 | wireType);
}

void Protobuf_uint64(Protobuf* this, uint32_t field, uint64_t v) {
   key(this, field, PROTOBUF_VARINT);
   Protobuf_rawVarint(this, v);
}

void Protobuf_int64(Protobuf* this, uint32_t field, int64_t v) {
   Protobuf_uint64(this, field, (uint64_t)v);
}

void Protobuf_bool(Protobuf* this, uint32_t field, bool v) {
   Protobuf_uint64(this, field, v ? 1 : 0);
}

void Protobuf_bytes(Protobuf* this, uint32_t field, const void* data, size_t len) {
   key(this, field, PROTOBUF_LEN);
   Protobuf_rawVarint(this, len);
   append(this, data, len);
}

void Protobuf_string(Protobuf* this, uint32_t field, const char* s) {
   Protobuf_bytes(this, field, s, strlen(s));
}

void Protobuf_message(Protobuf* this, uint32_t field, const Protobuf* message) {
   Protobuf_bytes(this, field, message->data, message->len);
}

void Protobuf_packed(Protobuf* this, uint32_t field, const uint64_t* values, size_t n) {
   if (n == 0)
      return;
   size_t len = 0;
   for (size_t i = 0; i < n; i++) {
      uint64_t v = values[i];
      do {
         len++;
         v >>= 7;
      } while (v);
   }
   key(this, field, PROTOBUF_LEN);
   Protobuf_rawVarint(this, len);
   reserve(this, len);
   for (size_t i = 0; i < n; i++)
      Protobuf_rawVarint(this, values[i]);
}
