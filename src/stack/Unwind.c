/* libunwind over a snapshot: see Unwind.h.
 *
 * Memory reads are served from two places only, never from the (running
 * again) target: the thread's copied stack, and the ELF file behind a
 * file-backed mapping (the ElfCache's sealed copy), addressed through its
 * PT_LOAD segments. find_proc_info hands libunwind the module's .eh_frame_hdr
 * search table as a UNW_INFO_FORMAT_REMOTE_TABLE; libunwind reads it through
 * access_mem. Without one it answers -UNW_ENOINFO, which makes libunwind's
 * x86_64 stepper fall back to the frame-pointer chain (Go binaries). */
#include "stacktop/Unwind.h"

#include <assert.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Arch.h"
#include "stacktop/ElfCache.h"
#include "stacktop/GoSnapshot.h"
#include "stacktop/GoUnwind.h"
#include "stacktop/Util.h"

/* See Arch.h. */
extern int Arch_dwarfSearchUnwindTable(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di, unw_proc_info_t* pi,
                                       int needUnwindInfo, void* arg);

/* A caller's frame asked for this close above a stack copied to its top is
 * "above the top" (the TLS block, the end of the mapping), not a stray
 * pointer. */
#define PAST_TOP ((uint64_t)64 << 10)

#define DW_EH_PE_OMIT 0xff
#define DW_EH_PE_DATAREL_SDATA4 0x3b

/* One loaded object of the target, from the ElfCache. */
typedef struct Module_ {
   ElfObject object;
   int table; /* 0 not looked at, 1 di valid, -1 none */
   unw_dyn_info_t di;
} Module;

struct Unwind_ {
   const Snapshot* snap;
   const GoSnapshot* go; /* the goroutines of the same stop, or NULL */
   GoUnwindMemo* goMemo; /* Go frame sizes by pc */
   unw_addr_space_t as;
   Module* modules; /* sorted by lo, not overlapping */
   size_t moduleCount, moduleCapacity;
};

/* The accessors' arg: which thread's registers and stack, and the last read
 * that failed (why an unwind stopped). */
typedef struct Cursor_ {
   Unwind* unwind;
   const SnapshotThread* thread;
   bool readFailed;
   uint64_t failedAddr;
   bool noInfo; /* a pc without CFI: libunwind fell back to the frame-pointer chain */
} Cursor;

/* ---- modules ------------------------------------------------------------ */

/* One module per loaded object, in address order (maps is sorted). */
static void addModules(Unwind* this, ElfCache* cache) {
   const Maps* maps = &this->snap->maps;
   for (size_t i = 0; i < maps->count; i++) {
      ElfObject obj;
      if (!ElfCache_object(cache, this->snap->pid, maps, i, &obj))
         continue;
      Module* last = this->moduleCount ? &this->modules[this->moduleCount - 1] : NULL;
      if (last && last->object.lo == obj.lo)
         continue; /* the same object, seen from its next mapping */
      Util_growArray((void**)&this->modules, &this->moduleCapacity, this->moduleCount, sizeof(Module));
      this->modules[this->moduleCount++] = (Module){ .object = obj };
   }
}

static Module* findModule(Unwind* this, uint64_t addr) {
   size_t lo = 0, hi = this->moduleCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->modules[mid].object.lo <= addr)
         lo = mid + 1;
      else
         hi = mid;
   }
   if (lo == 0 || addr >= this->modules[lo - 1].object.hi)
      return NULL;
   return &this->modules[lo - 1];
}

static size_t encodedSize(uint8_t enc) {
   switch (enc & 0x0f) {
   case 0x03:
   case 0x0b: return 4; /* udata4, sdata4 */
   case 0x00:
   case 0x04:
   case 0x0c: return 8; /* absptr, udata8, sdata8 */
   default: return 0;
   }
}

/* Builds the REMOTE_TABLE description of the module's .eh_frame_hdr binary
 * search table (version 1, table encoded datarel|sdata4). */
static bool prepareTable(Module* m) {
   const ElfFile* file = m->object.file;
   const ElfSegment* eh = &file->reader.ehFrameHdr;
   if (!eh->present || eh->filesz < 4)
      return false;
   const uint8_t* hdr = file->data + eh->offset;
   size_t ptrSize = encodedSize(hdr[1]), countSize = encodedSize(hdr[2]);
   if (hdr[0] != 1 || hdr[2] == DW_EH_PE_OMIT || hdr[3] != DW_EH_PE_DATAREL_SDATA4 || !ptrSize || !countSize)
      return false;
   size_t pos = 4 + ptrSize;
   if (eh->filesz < pos + countSize)
      return false;
   uint64_t count = 0;
   memcpy(&count, hdr + pos, countSize); /* little-endian */
   pos += countSize;
   if (count == 0 || count > (eh->filesz - pos) / 8)
      return false;
   uint64_t segbase = m->object.bias + eh->vaddr;
   m->di = (unw_dyn_info_t){
      .start_ip = m->object.lo,
      .end_ip = m->object.hi,
      .format = UNW_INFO_FORMAT_REMOTE_TABLE,
      .u.rti = {
         .name_ptr = 0,
         .segbase = segbase,
         .table_len = count * 8 / sizeof(unw_word_t),
         .table_data = segbase + pos,
      },
   };
   return true;
}

/* ---- accessors ------------------------------------------------------------ */

static int searchProcInfo(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int needUnwindInfo, Cursor* c) {
   Module* m = findModule(c->unwind, ip);
   if (!m)
      return -UNW_ENOINFO;
   if (m->table == 0)
      m->table = prepareTable(m) ? 1 : -1;
   if (m->table < 0)
      return -UNW_ENOINFO;
   return Arch_dwarfSearchUnwindTable(as, ip, &m->di, pi, needUnwindInfo, c);
}

static int findProcInfo(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int needUnwindInfo, void* arg) {
   Cursor* c = arg;
   int rc = searchProcInfo(as, ip, pi, needUnwindInfo, c);
   c->noInfo |= rc == -UNW_ENOINFO;
   return rc;
}

/* libunwind 1.6 releases the DWARF info it allocated itself (FORMAT_TABLE). */
static void putUnwindInfo(unw_addr_space_t as, unw_proc_info_t* pi, void* arg) {
   (void)as;
   (void)pi;
   (void)arg;
}

static int getDynInfoListAddr(unw_addr_space_t as, unw_word_t* addr, void* arg) {
   (void)as;
   (void)addr;
   (void)arg;
   return -UNW_ENOINFO;
}

static int accessMem(unw_addr_space_t as, unw_word_t addr, unw_word_t* val, int write, void* arg) {
   (void)as;
   Cursor* c = arg;
   if (write)
      return -UNW_EINVAL;
   const SnapshotThread* t = c->thread;
   if (addr >= t->stackStart && addr - t->stackStart <= t->stackSize &&
       t->stackSize - (addr - t->stackStart) >= sizeof(*val)) {
      memcpy(val, t->stack + (addr - t->stackStart), sizeof(*val));
      return 0;
   }
   const Module* m = findModule(c->unwind, addr);
   const uint8_t* bytes = m ? ElfReader_bytesAt(&m->object.file->reader, addr - m->object.bias, sizeof(*val)) : NULL;
   if (bytes) {
      memcpy(val, bytes, sizeof(*val));
      return 0;
   }
   c->readFailed = true;
   c->failedAddr = addr;
   return -UNW_EINVAL;
}

static int accessReg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t* val, int write, void* arg) {
   (void)as;
   Cursor* c = arg;
   uint64_t v;
   if (write || !Arch_unwindRegister(&c->thread->regs, reg, &v))
      return -UNW_EBADREG;
   *val = v;
   return 0;
}

static int accessFpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t* val, int write, void* arg) {
   (void)as;
   (void)reg;
   (void)val;
   (void)write;
   (void)arg;
   return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t* cursor, void* arg) {
   (void)as;
   (void)cursor;
   (void)arg;
   return -UNW_EINVAL;
}

/* Names come from Symbols for the unique PCs only, never from libunwind. */
static int getProcName(unw_addr_space_t as, unw_word_t addr, char* buf, size_t len, unw_word_t* offp, void* arg) {
   (void)as;
   (void)addr;
   (void)buf;
   (void)len;
   (void)offp;
   (void)arg;
   return -UNW_ENOINFO;
}

static unw_accessors_t accessors = {
   .find_proc_info = findProcInfo,
   .put_unwind_info = putUnwindInfo,
   .get_dyn_info_list_addr = getDynInfoListAddr,
   .access_mem = accessMem,
   .access_reg = accessReg,
   .access_fpreg = accessFpreg,
   .resume = resume,
   .get_proc_name = getProcName,
};

/* ---- public --------------------------------------------------------------- */

Unwind* Unwind_new(const Snapshot* snapshot, ElfCache* cache) {
   Unwind* this = Util_xcalloc(1, sizeof(*this));
   this->snap = snapshot;
   this->goMemo = GoUnwindMemo_new();
   addModules(this, cache);
   this->as = unw_create_addr_space(&accessors, 0);
   if (this->as)
      unw_set_caching_policy(this->as, UNW_CACHE_GLOBAL);
   return this;
}

void Unwind_free(Unwind* this) {
   if (!this)
      return;
   if (this->as)
      unw_destroy_addr_space(this->as);
   GoUnwindMemo_free(this->goMemo);
   free(this->modules);
   free(this);
}

/* The thread's copied stack, for Go's unwinder (ctx: a Cursor). */
static bool readThreadWord(void* ctx, uint64_t addr, uint64_t* value) {
   Cursor* c = ctx;
   const SnapshotThread* t = c->thread;
   if (addr < t->stackStart || addr - t->stackStart > t->stackSize || t->stackSize - (addr - t->stackStart) < 8) {
      c->readFailed = true;
      c->failedAddr = addr;
      return false;
   }
   memcpy(value, t->stack + (addr - t->stackStart), sizeof(*value));
   return true;
}

void Unwind_setGoroutines(Unwind* this, const GoSnapshot* go) {
   this->go = go;
}

/* The Go binary whose code holds ip, with its load bias. */
static const GoBinary* goCodeAt(Unwind* this, uint64_t ip, uint64_t* bias) {
   Module* m = findModule(this, ip);
   if (!m)
      return NULL;
   const GoBinary* go = ElfFile_go(m->object.file);
   *bias = m->object.bias;
   return go && GoBinary_inText(go, ip - m->object.bias) ? go : NULL;
}

/* One frame up from (ip, sp) in Go code, with the pclntab's frame sizes. */
static GoUnwindEnd goStep(Unwind* this, GoReadWord read, void* ctx, GoPhysFrame* frame) {
   uint64_t bias;
   const GoBinary* go = goCodeAt(this, frame->pc, &bias);
   if (!go)
      return GO_UNWIND_NOT_GO;
   GoUnwindStart s = { .memo = this->goMemo, .bin = go, .bias = bias, .read = read, .ctx = ctx };
   GoPhysFrame caller;
   GoUnwindEnd end = GoUnwind_step(&s, frame, &caller);
   if (end != GO_UNWIND_CONTINUE)
      return end;
   if (caller.sp <= frame->sp || caller.pc == 0)
      return GO_UNWIND_OUT_OF_STACK;
   *frame = caller;
   return GO_UNWIND_CONTINUE;
}

/* A thread on its system stack (runtime.systemstack) still serves the
 * goroutine that switched there: like Go's traceback, continue with that
 * goroutine's frames, from the state it saved (g.sched). */
static const GoRoutine* userGoroutine(Unwind* this, const SnapshotThread* thread, const GoPhysFrame* frame) {
   uint64_t bias;
   const GoBinary* go = goCodeAt(this, frame->pc, &bias);
   if (!this->go || !go || !GoBinary_isFunc(go, GO_FUNC_SYSTEMSTACK, frame->pc - bias))
      return NULL;
   return GoSnapshot_routineOfThread(this->go, thread->tid);
}

/* A failed read past the copied part of a stack that was cut is the copy
 * limit; past a stack copied to its top (the end of its mapping, or the
 * thread pointer), there is no caller: the stack's outermost frame (a
 * thread that has just been born in clone3, say). Anything else is memory
 * that was not there to read. */
static DumpCut readFailure(const Cursor* c) {
   const SnapshotThread* t = c->thread;
   uint64_t end = t->stackStart + t->stackSize;
   if (t->stackCut && c->failedAddr >= end)
      return DUMP_CUT_COPY_LIMIT;
   if (c->failedAddr >= end && c->failedAddr - end < PAST_TOP)
      return DUMP_CUT_NONE;
   return DUMP_CUT_UNREADABLE;
}

static DumpCut libunwindFailure(const Cursor* c, int rc) {
   if (c->readFailed)
      return readFailure(c);
   switch (-rc) {
   case UNW_ENOINFO: return DUMP_CUT_NO_INFO;
   case UNW_EBADFRAME:
   case UNW_EINVALIDIP: return DUMP_CUT_BAD_FRAME;
   default: return DUMP_CUT_FAILED;
   }
}

/* libunwind ends a stack (0) at an undefined return address in the CFI,
 * or, without CFI, where the frame-pointer chain ends (rbp 0); but also
 * when its frame-pointer fallback could not read or rejected a frame
 * (rbp below the stack pointer or far above it): that is a cut. */
static DumpCut endOfNative(const Cursor* c, uint64_t rbp) {
   if (c->readFailed)
      return readFailure(c);
   if (c->noInfo && rbp != 0)
      return DUMP_CUT_NO_INFO;
   return DUMP_CUT_NONE;
}

static DumpCut goFailure(const Cursor* c, GoUnwindEnd end) {
   switch (end) {
   case GO_UNWIND_TOPFRAME:
   case GO_UNWIND_SPWRITE: return DUMP_CUT_NONE; /* where Go's own traceback ends too */
   case GO_UNWIND_DEPTH: return DUMP_CUT_DEPTH;
   case GO_UNWIND_UNREADABLE: return readFailure(c);
   case GO_UNWIND_OUT_OF_STACK: return DUMP_CUT_BAD_FRAME;
   case GO_UNWIND_NO_FUNC: return DUMP_CUT_BAD_FRAME;
   case GO_UNWIND_NOT_GO:
   case GO_UNWIND_BAD_DELTA: return DUMP_CUT_NO_INFO;
   default: return DUMP_CUT_FAILED;
   }
}

/* Callers check s->count against maxFrames first. */
static void push(UnwindStack* s, uint64_t pc, DumpPcKind kind) {
   assert(s->count < s->capacity);
   s->pcs[s->count] = pc;
   s->kinds[s->count++] = (uint8_t)kind;
}

/* Frames outside Go code (libc, the vDSO, cgo, C programs) with libunwind,
 * until Go code is reached or the stack ends. Returns true to continue in
 * Go from *frame. */
static bool unwindNative(Unwind* this, Cursor* c, size_t maxFrames, UnwindStack* s, GoPhysFrame* frame) {
   unw_cursor_t cursor;
   if (!this->as || unw_init_remote(&cursor, this->as, c) < 0) {
      s->cut = DUMP_CUT_FAILED;
      return false;
   }
   for (;;) {
      c->readFailed = false;
      c->noInfo = false;
      unw_word_t rbp = 0;
      unw_get_reg(&cursor, Arch_unwindFramePointer(), &rbp);
      int rc = unw_step(&cursor);
      if (rc < 0) {
         s->cut = libunwindFailure(c, rc);
         return false;
      }
      if (rc == 0) {
         s->cut = endOfNative(c, rbp);
         return false;
      }
      unw_word_t ip, sp;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cursor, UNW_REG_SP, &sp) < 0) {
         s->cut = DUMP_CUT_FAILED;
         return false;
      }
      if (ip == 0) {
         s->cut = DUMP_CUT_NONE;
         return false;
      }
      /* Loop guard: each caller's frame lies above its callee's. */
      if (sp <= frame->sp) {
         s->cut = DUMP_CUT_BAD_FRAME;
         return false;
      }
      if (s->count == maxFrames) {
         s->cut = DUMP_CUT_DEPTH;
         return false;
      }
      /* True when this step went through a signal frame: the previous pc
       * is the trampoline, this one the instruction the signal struck. */
      bool signal = unw_is_signal_frame(&cursor) > 0;
      push(s, ip, signal ? DUMP_PC_EXACT : DUMP_PC_RETURN);
      if (signal)
         s->kinds[s->count - 2] = DUMP_PC_SIGNAL;
      *frame = (GoPhysFrame){ .pc = ip, .sp = sp, .trap = signal };
      uint64_t bias;
      if (goCodeAt(this, ip, &bias))
         return true;
   }
}

size_t Unwind_thread(Unwind* this, const SnapshotThread* thread, size_t maxFrames, UnwindStack* s) {
   s->count = 0;
   s->capacity = maxFrames;
   s->cut = DUMP_CUT_NONE;
   if (!thread->captured || maxFrames == 0) {
      s->cut = thread->captured ? DUMP_CUT_DEPTH : DUMP_CUT_NOT_STOPPED;
      return 0;
   }
   push(s, Arch_pc(&thread->regs), DUMP_PC_EXACT);
   GoPhysFrame frame = { .pc = Arch_pc(&thread->regs), .sp = Arch_sp(&thread->regs), .trap = true };
   Cursor c = { .unwind = this, .thread = thread };
   uint64_t bias;
   /* Go code has no CFI: its frame sizes come from the pclntab. Frames
    * outside Go are libunwind's until Go code is reached; Go never returns
    * into C except through cgo callbacks. */
   if (!goCodeAt(this, frame.pc, &bias) && !unwindNative(this, &c, maxFrames, s, &frame))
      return s->count;
   GoReadWord read = readThreadWord;
   void* ctx = &c;
   for (;;) {
      c.readFailed = false;
      GoUnwindEnd end = goStep(this, read, ctx, &frame);
      if (end == GO_UNWIND_CONTINUE && s->count == maxFrames)
         end = GO_UNWIND_DEPTH;
      if (end == GO_UNWIND_CONTINUE) {
         push(s, frame.pc, DUMP_PC_RETURN);
         continue;
      }
      const GoRoutine* user =
          end == GO_UNWIND_SPWRITE && read == readThreadWord ? userGoroutine(this, thread, &frame) : NULL;
      if (!user || s->count == maxFrames) {
         s->cut = user ? DUMP_CUT_DEPTH : goFailure(&c, end);
         return s->count;
      }
      frame = (GoPhysFrame){ .pc = user->pc, .sp = user->sp };
      read = GoSnapshot_readStackWord;
      ctx = (void*)user;
      push(s, frame.pc, DUMP_PC_RETURN);
   }
}
