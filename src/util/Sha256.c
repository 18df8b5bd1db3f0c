/* SHA-256 and HMAC-SHA256, straight from FIPS 180-4 and RFC 2104. */
#include "stacktop/Sha256.h"

#include <string.h>

static const uint32_t k[64] = {
   0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
   0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
   0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
   0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
   0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
   0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
   0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
   0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n) {
   return (x >> n) | (x << (32 - n));
}

static void compress(Sha256* this, const unsigned char* p) {
   uint32_t w[64];
   for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
   for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
   }
   uint32_t a = this->h[0], b = this->h[1], c = this->h[2], d = this->h[3];
   uint32_t e = this->h[4], f = this->h[5], g = this->h[6], h = this->h[7];
   for (int i = 0; i < 64; i++) {
      uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
   }
   this->h[0] += a;
   this->h[1] += b;
   this->h[2] += c;
   this->h[3] += d;
   this->h[4] += e;
   this->h[5] += f;
   this->h[6] += g;
   this->h[7] += h;
}

void Sha256_init(Sha256* this) {
   static const uint32_t init[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
   memset(this, 0, sizeof(*this));
   memcpy(this->h, init, sizeof(init));
}

void Sha256_update(Sha256* this, const void* data, size_t len) {
   const unsigned char* p = data;
   this->bytes += len;
   while (len > 0) {
      size_t n = 64 - this->used < len ? 64 - this->used : len;
      memcpy(this->block + this->used, p, n);
      this->used += n;
      p += n;
      len -= n;
      if (this->used == 64) {
         compress(this, this->block);
         this->used = 0;
      }
   }
}

void Sha256_final(Sha256* this, unsigned char out[SHA256_BYTES]) {
   uint64_t bits = this->bytes * 8;
   static const unsigned char pad = 0x80;
   static const unsigned char zero[64] = { 0 };
   Sha256_update(this, &pad, 1);
   size_t fill = this->used <= 56 ? 56 - this->used : 120 - this->used;
   Sha256_update(this, zero, fill);
   unsigned char len[8];
   for (int i = 0; i < 8; i++)
      len[i] = (unsigned char)(bits >> (56 - 8 * i));
   Sha256_update(this, len, 8);
   for (int i = 0; i < 8; i++) {
      out[4 * i] = (unsigned char)(this->h[i] >> 24);
      out[4 * i + 1] = (unsigned char)(this->h[i] >> 16);
      out[4 * i + 2] = (unsigned char)(this->h[i] >> 8);
      out[4 * i + 3] = (unsigned char)this->h[i];
   }
}

void Sha256_hmac(const unsigned char* key, size_t keyLen, const Sha256Part* parts, size_t count,
                 unsigned char out[SHA256_BYTES]) {
   unsigned char block[64] = { 0 };
   Sha256 ctx;
   if (keyLen > 64) {
      Sha256_init(&ctx);
      Sha256_update(&ctx, key, keyLen);
      Sha256_final(&ctx, block);
   } else {
      memcpy(block, key, keyLen);
   }
   unsigned char pad[64], inner[SHA256_BYTES];
   for (int i = 0; i < 64; i++)
      pad[i] = block[i] ^ 0x36;
   Sha256_init(&ctx);
   Sha256_update(&ctx, pad, 64);
   for (size_t i = 0; i < count; i++)
      Sha256_update(&ctx, parts[i].data, parts[i].len);
   Sha256_final(&ctx, inner);
   for (int i = 0; i < 64; i++)
      pad[i] = block[i] ^ 0x5c;
   Sha256_init(&ctx);
   Sha256_update(&ctx, pad, 64);
   Sha256_update(&ctx, inner, SHA256_BYTES);
   Sha256_final(&ctx, out);
}

void Sha256_hex(const unsigned char digest[SHA256_BYTES], char* out) {
   static const char hex[] = "0123456789abcdef";
   for (int i = 0; i < SHA256_BYTES; i++) {
      out[2 * i] = hex[digest[i] >> 4];
      out[2 * i + 1] = hex[digest[i] & 15];
   }
   out[2 * SHA256_BYTES] = '\0';
}

int Sha256_equal(const void* a, const void* b, size_t len) {
   const unsigned char* x = a;
   const unsigned char* y = b;
   unsigned char diff = 0;
   for (size_t i = 0; i < len; i++)
      diff |= x[i] ^ y[i];
   return diff == 0;
}
