/* Random access into a zlib stream: see Inflater.h. The checkpoints are
 * zlib's own zran technique (examples/zran.c): at a deflate block boundary
 * the next input byte, the bits of the previous one not yet used and the
 * 32 KiB window (inflateGetDictionary) are enough to resume with a raw
 * inflater. zlib reads back-references only from its own window and from the
 * output of the current inflate() call, so pages written by earlier calls may
 * be dropped between calls. */
#include "stacktop/Inflater.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "stacktop/Util.h"

#define WINDOW_BYTES 32768u
/* Output per inflate() call: the keep budget is enforced between calls, so
 * streaming through a large section never holds more than this extra. */
#define STEP_BYTES (256u << 10)
/* Checkpoints at least this far apart (more apart for sections over 256 MiB). */
#define MIN_SPAN ((uint64_t)1 << 20)
/* zlib counts input in uInt: feed at most this much at a time. */
#define MAX_FEED ((size_t)1 << 30)

enum { PAGE_ABSENT, PAGE_PRESENT, PAGE_PINNED };

typedef struct Checkpoint_ {
   uint64_t out; /* output offset */
   uint64_t in;  /* input offset of the next whole byte */
   int bits;     /* bits of in[-1] not yet used (0-7) */
   unsigned windowLen;
   uint8_t* window; /* owned */
} Checkpoint;

/* Pages that became present together, dropped first-in first-out. */
typedef struct Run_ {
   size_t first, end; /* page indexes */
} Run;

struct Inflater_ {
   const uint8_t* in;
   size_t inSize;
   InflaterFormat format;
   uint8_t* out;
   size_t outSize;
   size_t keepBytes;
   uint64_t span;
   uint8_t* pages; /* PAGE_* per page of out; owned */
   size_t pageCount, present, pinned;
   Run* runs; /* a FIFO: runs[runHead .. runHead+runCount) */
   size_t runHead, runCount, runCapacity;
   Checkpoint* checkpoints; /* ascending out; owned */
   size_t checkpointCount, checkpointCapacity;
   z_stream strm;
   bool active;       /* strm is initialised */
   uint64_t pos;      /* output offset of the stream */
   uint64_t end;      /* where the stream ended (UINT64_MAX: not yet) */
   uint64_t brokenAt; /* output offset of a data error (UINT64_MAX: none) */
   /* Pages [protectLo, protectHi): the range asked for last, kept until the
    * next call whatever the budget (the caller is reading it). */
   size_t protectLo, protectHi;
   uint64_t inflated;
};

Inflater* Inflater_new(const uint8_t* in, size_t inSize, InflaterFormat format, uint8_t* out, size_t outSize,
                       size_t keepBytes) {
   Inflater* this = Util_xcalloc(1, sizeof(*this));
   *this = (Inflater){ .in = in,
                       .inSize = inSize,
                       .format = format,
                       .out = out,
                       .outSize = outSize,
                       .keepBytes = keepBytes,
                       .end = UINT64_MAX,
                       .brokenAt = UINT64_MAX };
   uint64_t span = (outSize + INFLATER_MAX_CHECKPOINTS - 1) / INFLATER_MAX_CHECKPOINTS;
   this->span = span > MIN_SPAN ? span : MIN_SPAN;
   this->pageCount = (outSize + INFLATER_PAGE - 1) / INFLATER_PAGE;
   this->pages = Util_xcalloc(this->pageCount ? this->pageCount : 1, 1);
   return this;
}

void Inflater_free(Inflater* this) {
   if (!this)
      return;
   if (this->active)
      inflateEnd(&this->strm);
   for (size_t i = 0; i < this->checkpointCount; i++)
      free(this->checkpoints[i].window);
   free(this->checkpoints);
   free(this->runs);
   free(this->pages);
   free(this);
}

size_t Inflater_residentBytes(const Inflater* this) {
   return this->present * INFLATER_PAGE;
}

size_t Inflater_pinnedBytes(const Inflater* this) {
   return this->pinned * INFLATER_PAGE;
}

uint64_t Inflater_inflatedBytes(const Inflater* this) {
   return this->inflated;
}

/* ---- pages ------------------------------------------------------------------ */

static void pushRun(Inflater* this, size_t first, size_t end) {
   if (first >= end)
      return;
   if (this->runCount > 0) {
      Run* last = &this->runs[(this->runHead + this->runCount - 1) % this->runCapacity];
      if (last->end == first) {
         last->end = end;
         return;
      }
   }
   if (this->runCount == this->runCapacity) {
      /* Grow and unwrap the ring. */
      size_t capacity = this->runCapacity ? this->runCapacity * 2 : 16;
      Run* runs = Util_xcalloc(capacity, sizeof(Run));
      for (size_t i = 0; i < this->runCount; i++)
         runs[i] = this->runs[(this->runHead + i) % this->runCapacity];
      free(this->runs);
      this->runs = runs;
      this->runCapacity = capacity;
      this->runHead = 0;
   }
   this->runs[(this->runHead + this->runCount) % this->runCapacity] = (Run){ first, end };
   this->runCount++;
}

static void dropPages(Inflater* this, size_t first, size_t end) {
   if (first < end)
      madvise(this->out + first * INFLATER_PAGE, (end - first) * INFLATER_PAGE, MADV_DONTNEED);
}

/* Drops the oldest unpinned pages, one by one, until the rest fit in
 * keepBytes. Pages being filled (protected) are queued again at the end. */
static void enforceBudget(Inflater* this) {
   size_t keepPages = this->keepBytes / INFLATER_PAGE;
   size_t dropFrom = 0, dropTo = 0; /* pages not yet madvised */
   bool deferred = false;
   while (this->present - this->pinned > keepPages && this->runCount > 0) {
      Run* run = &this->runs[this->runHead];
      if (run->first == run->end) {
         this->runHead = (this->runHead + 1) % this->runCapacity;
         this->runCount--;
         continue;
      }
      size_t p = run->first++;
      if (this->pages[p] != PAGE_PRESENT)
         continue;
      if (p >= this->protectLo && p < this->protectHi) {
         deferred = true;
         continue;
      }
      this->pages[p] = PAGE_ABSENT;
      this->present--;
      if (p != dropTo) {
         dropPages(this, dropFrom, dropTo);
         dropFrom = p;
      }
      dropTo = p + 1;
   }
   dropPages(this, dropFrom, dropTo);
   for (size_t p = this->protectLo; deferred && p < this->protectHi; p++) {
      if (this->pages[p] == PAGE_PRESENT)
         pushRun(this, p, p + 1);
   }
}

/* Pages wholly written since page *next (by the run that started there)
 * become present; *next moves past them. */
static void markWritten(Inflater* this, size_t* next, uint64_t pos) {
   size_t end = (size_t)(pos / INFLATER_PAGE);
   if (pos == this->outSize || pos == this->end)
      end = (size_t)((pos + INFLATER_PAGE - 1) / INFLATER_PAGE);
   size_t newFrom = SIZE_MAX;
   for (size_t p = *next; p < end; p++) {
      if (this->pages[p] == PAGE_ABSENT) {
         this->pages[p] = PAGE_PRESENT;
         this->present++;
         if (newFrom == SIZE_MAX)
            newFrom = p;
         continue;
      }
      if (newFrom != SIZE_MAX)
         pushRun(this, newFrom, p);
      newFrom = SIZE_MAX;
   }
   if (newFrom != SIZE_MAX)
      pushRun(this, newFrom, end);
   if (end > *next)
      *next = end;
}

/* ---- the stream ----------------------------------------------------------------- */

static void feed(Inflater* this, uint64_t inPos) {
   size_t left = this->inSize - (size_t)inPos;
   this->strm.next_in = (Bytef*)(uintptr_t)(this->in + inPos);
   this->strm.avail_in = (uInt)(left < MAX_FEED ? left : MAX_FEED);
}

static uint64_t inputPosition(const Inflater* this) {
   return (uint64_t)(this->strm.next_in - (const Bytef*)this->in);
}

/* Where the deflate data starts: after a zlib header (RFC 1950: method 8,
 * window at most 32 KiB, check bits right, no preset dictionary), which is
 * skipped so that the whole stream inflates raw: zlib then does not compute
 * the trailer's Adler-32 (nobody checks it here), and a checkpoint resumes
 * the same way as the start. SIZE_MAX: not a stream we can read. */
static size_t dataStart(const Inflater* this) {
   if (this->format == INFLATER_RAW)
      return 0;
   if (this->inSize < 2)
      return SIZE_MAX;
   unsigned cmf = this->in[0], flg = this->in[1];
   bool ok = (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0 && !(flg & 0x20);
   return ok ? 2 : SIZE_MAX;
}

/* Restarts the stream at checkpoint cp, or at the beginning when NULL. */
static bool resume(Inflater* this, const Checkpoint* cp) {
   if (this->active)
      inflateEnd(&this->strm);
   this->active = false;
   memset(&this->strm, 0, sizeof(this->strm));
   size_t start = cp ? (size_t)cp->in : dataStart(this);
   if (start == SIZE_MAX || inflateInit2(&this->strm, -15) != Z_OK)
      return false;
   this->active = true;
   this->pos = cp ? cp->out : 0;
   feed(this, start);
   if (!cp)
      return true;
   if (cp->bits && inflatePrime(&this->strm, cp->bits, this->in[cp->in - 1] >> (8 - cp->bits)) != Z_OK)
      return false;
   return inflateSetDictionary(&this->strm, cp->window, cp->windowLen) == Z_OK;
}

static void addCheckpoint(Inflater* this) {
   uint64_t last = this->checkpointCount ? this->checkpoints[this->checkpointCount - 1].out : 0;
   if (this->checkpointCount == INFLATER_MAX_CHECKPOINTS || this->pos < last + this->span)
      return;
   uint8_t* window = Util_xmalloc(WINDOW_BYTES);
   uInt len = 0;
   if (inflateGetDictionary(&this->strm, window, &len) != Z_OK) {
      free(window);
      return;
   }
   Util_growArray((void**)&this->checkpoints, &this->checkpointCapacity, this->checkpointCount, sizeof(Checkpoint));
   this->checkpoints[this->checkpointCount++] = (Checkpoint){
      .out = this->pos,
      .in = inputPosition(this),
      .bits = this->strm.data_type & 7,
      .windowLen = len,
      .window = window,
   };
}

/* One inflate() call into out[pos ...]; false when the stream cannot go on. */
static bool step(Inflater* this, uint64_t goal) {
   if (this->strm.avail_in == 0)
      feed(this, inputPosition(this));
   uint64_t room = goal - this->pos;
   this->strm.next_out = this->out + this->pos;
   this->strm.avail_out = (uInt)(room < STEP_BYTES ? room : STEP_BYTES);
   uInt before = this->strm.avail_out;
   int rc = inflate(&this->strm, Z_BLOCK);
   uint64_t produced = before - this->strm.avail_out;
   this->pos += produced;
   this->inflated += produced;
   if (rc == Z_STREAM_END) {
      this->end = this->pos;
      return false;
   }
   if (rc == Z_BUF_ERROR && this->strm.avail_in == 0 && inputPosition(this) >= this->inSize) {
      this->end = this->pos; /* truncated input: what came out is all there is */
      return false;
   }
   if (rc != Z_OK && rc != Z_BUF_ERROR) {
      this->brokenAt = this->pos;
      return false;
   }
   bool boundary = (this->strm.data_type & 128) && !(this->strm.data_type & 64);
   if (boundary)
      addCheckpoint(this);
   return true;
}

/* Streams from pos towards goal (a page boundary or outSize), marking pages;
 * stops early where the stream ends or breaks. */
static void streamTo(Inflater* this, uint64_t goal) {
   uint64_t runStart = this->pos;
   size_t partial = (size_t)(runStart / INFLATER_PAGE);
   bool partialWasAbsent = runStart % INFLATER_PAGE != 0 && this->pages[partial] == PAGE_ABSENT;
   size_t next = (size_t)((runStart + INFLATER_PAGE - 1) / INFLATER_PAGE);
   while (this->pos < goal && step(this, goal)) {
      markWritten(this, &next, this->pos);
      enforceBudget(this);
   }
   markWritten(this, &next, this->pos);
   /* The head of that page was not rewritten: it is still absent, but dirty. */
   if (partialWasAbsent && this->pages[partial] == PAGE_ABSENT)
      dropPages(this, partial, partial + 1);
}

/* The checkpoint to restart from for output offset `at`, NULL for the start. */
static const Checkpoint* checkpointFor(const Inflater* this, uint64_t at) {
   const Checkpoint* best = NULL;
   size_t lo = 0, hi = this->checkpointCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->checkpoints[mid].out <= at) {
         best = &this->checkpoints[mid];
         lo = mid + 1;
      } else {
         hi = mid;
      }
   }
   return best;
}

static void pinPages(Inflater* this, size_t first, size_t end) {
   for (size_t p = first; p < end; p++) {
      if (this->pages[p] == PAGE_PRESENT) {
         this->pages[p] = PAGE_PINNED;
         this->pinned++;
      }
   }
}

void Inflater_unpin(Inflater* this, uint64_t offset, uint64_t len) {
   if (len == 0 || offset >= this->outSize)
      return;
   uint64_t end = len > this->outSize - offset ? this->outSize : offset + len;
   size_t endPage = (size_t)((end + INFLATER_PAGE - 1) / INFLATER_PAGE);
   for (size_t p = (size_t)(offset / INFLATER_PAGE); p < endPage; p++) {
      if (this->pages[p] != PAGE_PINNED)
         continue;
      this->pages[p] = PAGE_PRESENT;
      this->pinned--;
      pushRun(this, p, p + 1);
   }
}

bool Inflater_ensure(Inflater* this, uint64_t offset, uint64_t len, bool pin) {
   if (len == 0)
      return true;
   if (offset >= this->outSize)
      return false;
   uint64_t end = len > this->outSize - offset ? this->outSize : offset + len;
   size_t firstPage = (size_t)(offset / INFLATER_PAGE);
   size_t endPage = (size_t)((end + INFLATER_PAGE - 1) / INFLATER_PAGE);
   /* The page where the stream ended is present, past its end too. */
   if (end > this->end || end > this->brokenAt)
      return false;
   this->protectLo = firstPage;
   this->protectHi = endPage;
   enforceBudget(this); /* what the previous call asked for may go now */
   size_t missing = firstPage;
   while (missing < endPage && this->pages[missing] != PAGE_ABSENT)
      missing++;
   if (missing < endPage) {
      uint64_t need = (uint64_t)missing * INFLATER_PAGE;
      uint64_t goal = (uint64_t)endPage * INFLATER_PAGE;
      if (goal > this->outSize)
         goal = this->outSize;
      const Checkpoint* cp = checkpointFor(this, need);
      bool continueStream = this->active && this->pos <= need && (!cp || cp->out <= this->pos);
      if (!continueStream && !resume(this, cp)) {
         this->brokenAt = cp ? cp->out : 0;
         return false;
      }
      streamTo(this, goal);
      enforceBudget(this);
      /* Short of goal when the stream ends (or breaks) inside the last page. */
      if (this->pos < end)
         return false;
   }
   if (pin)
      pinPages(this, firstPage, endPage);
   return true;
}
