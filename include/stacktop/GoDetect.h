#ifndef STACKTOP_GODETECT_H
#define STACKTOP_GODETECT_H
/* Whether an executable is a Go program, from its section headers alone (a
 * few reads, not the whole file): one of Go's sections, .gopclntab,
 * .go.buildinfo or .note.go.buildid. Go's linker writes all three, strip
 * keeps them, and external (cgo) linking keeps them too. The file is the
 * target owner's: every offset and size is checked. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* read(ctx, offset, buf, len): true when all len bytes were read. */
typedef bool (*GoDetectRead)(void* ctx, uint64_t offset, void* buf, size_t len);

bool GoDetect_isGoElf(GoDetectRead read, void* ctx);

#endif
