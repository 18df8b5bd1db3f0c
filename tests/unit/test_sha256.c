/* SHA-256 against FIPS 180-4 examples, HMAC-SHA256 against RFC 4231. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stacktop/Sha256.h"

static void digestHex(const char* msg, size_t len, char* hex) {
   Sha256 c;
   unsigned char d[SHA256_BYTES];
   Sha256_init(&c);
   Sha256_update(&c, msg, len);
   Sha256_final(&c, d);
   Sha256_hex(d, hex);
}

static void test_sha256_vectors(void** state) {
   (void)state;
   char hex[65];
   digestHex("", 0, hex);
   assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
   digestHex("abc", 3, hex);
   assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
   const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
   digestHex(two, strlen(two), hex);
   assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
   /* A million 'a' fed in odd pieces crosses every block boundary case. */
   Sha256 c;
   Sha256_init(&c);
   char a[997];
   memset(a, 'a', sizeof(a));
   size_t left = 1000000;
   while (left) {
      size_t n = left < sizeof(a) ? left : sizeof(a);
      Sha256_update(&c, a, n);
      left -= n;
   }
   unsigned char d[SHA256_BYTES];
   Sha256_final(&c, d);
   Sha256_hex(d, hex);
   assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac_rfc4231(void** state) {
   (void)state;
   unsigned char key[131], out[SHA256_BYTES];
   char hex[65];
   memset(key, 0x0b, 20);
   Sha256Part p1 = { "Hi There", 8 };
   Sha256_hmac(key, 20, &p1, 1, out);
   Sha256_hex(out, hex);
   assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
   /* Case 2, the message given in two parts. */
   Sha256Part p2[] = { { "what do ya want ", 16 }, { "for nothing?", 12 } };
   Sha256_hmac((const unsigned char*)"Jefe", 4, p2, 2, out);
   Sha256_hex(out, hex);
   assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
   /* Case 6: a key longer than the block is hashed first. */
   memset(key, 0xaa, sizeof(key));
   Sha256Part p6 = { "Test Using Larger Than Block-Size Key - Hash Key First", 54 };
   Sha256_hmac(key, 131, &p6, 1, out);
   Sha256_hex(out, hex);
   assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
   assert_true(Sha256_equal("abc", "abc", 3));
   assert_false(Sha256_equal("abc", "abd", 3));
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256_vectors),
      cmocka_unit_test(test_hmac_rfc4231),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
