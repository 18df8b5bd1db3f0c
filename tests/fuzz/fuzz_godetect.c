/* libFuzzer harness for GoDetect_isGoElf over an arbitrary file image: the
 * executable of a target process is its owner's to craft. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stacktop/GoDetect.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

typedef struct Image_ {
   const uint8_t* data;
   size_t size;
} Image;

static bool readImage(void* ctx, uint64_t offset, void* buf, size_t len) {
   const Image* im = ctx;
   if (offset > im->size || im->size - offset < len)
      return false;
   memcpy(buf, im->data + offset, len);
   return true;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   Image im = { data, size };
   (void)GoDetect_isGoElf(readImage, &im);
   return 0;
}
