/* libunwind over a snapshot: see Unwind.h.
 *
 * Memory reads are served from two places only, never from the (running
 * again) target: the thread's copied stack, and the ELF file behind a
 * file-backed mapping, mmapped read-only and addressed through its PT_LOAD
 * segments. find_proc_info hands libunwind the module's .eh_frame_hdr search
 * table as a UNW_INFO_FORMAT_REMOTE_TABLE; libunwind reads it through
 * access_mem. Without one it answers -UNW_ENOINFO, which makes libunwind's
 * x86_64 stepper fall back to the frame-pointer chain (Go binaries). */
#include "stacktop/Unwind.h"

#include <elf.h>
#include <inttypes.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stacktop/Util.h"

/* Exported by libunwind-x86_64 (libunwind-ptrace uses it) but not declared
 * in its public header in 1.6. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di,
                                              unw_proc_info_t* pi, int needUnwindInfo, void* arg);

#define DW_EH_PE_OMIT 0xff
#define DW_EH_PE_DATAREL_SDATA4 0x3b

/* One ELF file, mapped read-only. */
typedef struct Image_ {
   unsigned long inode;
   unsigned long devMajor, devMinor;
   const uint8_t* data; /* NULL when the file could not be opened */
   size_t size;
   Elf64_Phdr* loads; /* PT_LOAD headers; owned */
   size_t loadCount;
   Elf64_Phdr ehFrameHdr; /* PT_GNU_EH_FRAME; p_type PT_NULL when absent */
} Image;

/* One place where an Image is loaded in the target. */
typedef struct Module_ {
   Image* image;
   uint64_t bias;   /* runtime address - ELF vaddr */
   uint64_t lo, hi; /* span of its mappings */
   int table;       /* 0 not looked at, 1 di valid, -1 none */
   unw_dyn_info_t di;
} Module;

struct Unwind_ {
   const Snapshot* snap;
   unw_addr_space_t as;
   Image** images; /* owned */
   size_t imageCount, imageCapacity;
   Module* modules; /* sorted by lo, not overlapping */
   size_t moduleCount, moduleCapacity;
};

/* The accessors' arg: which thread's registers and stack. */
typedef struct Cursor_ {
   Unwind* unwind;
   const SnapshotThread* thread;
} Cursor;

/* ---- ELF files ----------------------------------------------------------- */

static bool phdrsInBounds(const Elf64_Ehdr* eh, size_t size) {
   return eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_phoff < size &&
          eh->e_phnum <= (size - eh->e_phoff) / sizeof(Elf64_Phdr);
}

/* Reads the program headers; every offset and size is checked against the
 * file, which the target's owner controls. They are copied out with memcpy:
 * nothing makes e_phoff a multiple of 8. */
static void parseImage(Image* img) {
   if (img->size < sizeof(Elf64_Ehdr))
      return;
   const Elf64_Ehdr* eh = (const Elf64_Ehdr*)img->data;
   if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
       !phdrsInBounds(eh, img->size))
      return;
   img->loads = Util_xcalloc(eh->e_phnum, sizeof(Elf64_Phdr));
   for (size_t i = 0; i < eh->e_phnum; i++) {
      Elf64_Phdr ph;
      memcpy(&ph, img->data + eh->e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
      bool inFile = ph.p_offset <= img->size && ph.p_filesz <= img->size - ph.p_offset;
      if (!inFile)
         continue;
      if (ph.p_type == PT_LOAD)
         img->loads[img->loadCount++] = ph;
      else if (ph.p_type == PT_GNU_EH_FRAME)
         img->ehFrameHdr = ph;
   }
}

static Image* openImage(Unwind* this, const MapEntry* e) {
   for (size_t i = 0; i < this->imageCount; i++) {
      Image* img = this->images[i];
      if (img->inode == e->inode && img->devMajor == e->devMajor && img->devMinor == e->devMinor)
         return img->data ? img : NULL;
   }
   Image* img = Util_xcalloc(1, sizeof(Image));
   img->inode = e->inode;
   img->devMajor = e->devMajor;
   img->devMinor = e->devMinor;
   Util_growArray((void**)&this->images, &this->imageCapacity, this->imageCount, sizeof(Image*));
   this->images[this->imageCount++] = img;
   int fd = Maps_openFile(this->snap->pid, e);
   if (fd < 0)
      return NULL;
   struct stat st;
   if (fstat(fd, &st) == 0) {
      void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map != MAP_FAILED) {
         img->data = map;
         img->size = (size_t)st.st_size;
         parseImage(img);
      }
   }
   close(fd);
   return img->data ? img : NULL;
}

static void freeImage(Image* img) {
   if (img->data)
      munmap((void*)img->data, img->size);
   free(img->loads);
   free(img);
}

/* The ELF vaddr at file offset `off`, through the PT_LOAD that holds it (its
 * page-aligned start, as the kernel maps it). */
static bool offsetToVaddr(const Image* img, uint64_t off, uint64_t* vaddr) {
   for (size_t i = 0; i < img->loadCount; i++) {
      const Elf64_Phdr* p = &img->loads[i];
      uint64_t pageStart = p->p_offset & ~(uint64_t)0xfff;
      if (off >= pageStart && off < p->p_offset + p->p_filesz) {
         *vaddr = p->p_vaddr - (p->p_offset - pageStart) + (off - pageStart);
         return true;
      }
   }
   return false;
}

/* Copies len bytes at ELF vaddr from the file, if a PT_LOAD has them on disk. */
static bool readImage(const Image* img, uint64_t vaddr, void* out, size_t len) {
   for (size_t i = 0; i < img->loadCount; i++) {
      const Elf64_Phdr* p = &img->loads[i];
      if (vaddr < p->p_vaddr || vaddr - p->p_vaddr >= p->p_filesz || p->p_filesz - (vaddr - p->p_vaddr) < len)
         continue;
      memcpy(out, img->data + p->p_offset + (vaddr - p->p_vaddr), len);
      return true;
   }
   return false;
}

/* ---- modules ------------------------------------------------------------ */

static void addMapping(Unwind* this, const MapEntry* e) {
   if (e->inode == 0 || e->path[0] != '/')
      return;
   Image* img = openImage(this, e);
   uint64_t vaddr;
   if (!img || !offsetToVaddr(img, e->offset, &vaddr))
      return;
   uint64_t bias = e->start - vaddr;
   Module* last = this->moduleCount ? &this->modules[this->moduleCount - 1] : NULL;
   if (last && last->image == img && last->bias == bias && last->hi <= e->start) {
      last->hi = e->end;
      return;
   }
   Util_growArray((void**)&this->modules, &this->moduleCapacity, this->moduleCount, sizeof(Module));
   this->modules[this->moduleCount++] = (Module){ .image = img, .bias = bias, .lo = e->start, .hi = e->end };
}

static Module* findModule(Unwind* this, uint64_t addr) {
   size_t lo = 0, hi = this->moduleCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->modules[mid].lo <= addr)
         lo = mid + 1;
      else
         hi = mid;
   }
   if (lo == 0 || addr >= this->modules[lo - 1].hi)
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
   const Image* img = m->image;
   const Elf64_Phdr* eh = &img->ehFrameHdr;
   if (eh->p_type != PT_GNU_EH_FRAME || eh->p_filesz < 4)
      return false;
   const uint8_t* hdr = img->data + eh->p_offset;
   size_t ptrSize = encodedSize(hdr[1]), countSize = encodedSize(hdr[2]);
   if (hdr[0] != 1 || hdr[2] == DW_EH_PE_OMIT || hdr[3] != DW_EH_PE_DATAREL_SDATA4 || !ptrSize || !countSize)
      return false;
   size_t pos = 4 + ptrSize;
   if (eh->p_filesz < pos + countSize)
      return false;
   uint64_t count = 0;
   memcpy(&count, hdr + pos, countSize); /* little-endian */
   pos += countSize;
   if (count == 0 || count > (eh->p_filesz - pos) / 8)
      return false;
   uint64_t segbase = m->bias + eh->p_vaddr;
   m->di = (unw_dyn_info_t){
      .start_ip = m->lo,
      .end_ip = m->hi,
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

static int findProcInfo(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int needUnwindInfo, void* arg) {
   Cursor* c = arg;
   Module* m = findModule(c->unwind, ip);
   if (!m)
      return -UNW_ENOINFO;
   if (m->table == 0)
      m->table = prepareTable(m) ? 1 : -1;
   if (m->table < 0)
      return -UNW_ENOINFO;
   return _Ux86_64_dwarf_search_unwind_table(as, ip, &m->di, pi, needUnwindInfo, arg);
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
   if (m && readImage(m->image, addr - m->bias, val, sizeof(*val)))
      return 0;
   return -UNW_EINVAL;
}

/* libunwind's x86_64 register numbers to the ptrace register block. */
static const size_t regOffsets[] = {
   [UNW_X86_64_RAX] = offsetof(struct user_regs_struct, rax), [UNW_X86_64_RDX] = offsetof(struct user_regs_struct, rdx),
   [UNW_X86_64_RCX] = offsetof(struct user_regs_struct, rcx), [UNW_X86_64_RBX] = offsetof(struct user_regs_struct, rbx),
   [UNW_X86_64_RSI] = offsetof(struct user_regs_struct, rsi), [UNW_X86_64_RDI] = offsetof(struct user_regs_struct, rdi),
   [UNW_X86_64_RBP] = offsetof(struct user_regs_struct, rbp), [UNW_X86_64_RSP] = offsetof(struct user_regs_struct, rsp),
   [UNW_X86_64_R8] = offsetof(struct user_regs_struct, r8),   [UNW_X86_64_R9] = offsetof(struct user_regs_struct, r9),
   [UNW_X86_64_R10] = offsetof(struct user_regs_struct, r10), [UNW_X86_64_R11] = offsetof(struct user_regs_struct, r11),
   [UNW_X86_64_R12] = offsetof(struct user_regs_struct, r12), [UNW_X86_64_R13] = offsetof(struct user_regs_struct, r13),
   [UNW_X86_64_R14] = offsetof(struct user_regs_struct, r14), [UNW_X86_64_R15] = offsetof(struct user_regs_struct, r15),
   [UNW_X86_64_RIP] = offsetof(struct user_regs_struct, rip),
};

static int accessReg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t* val, int write, void* arg) {
   (void)as;
   Cursor* c = arg;
   if (write || reg < 0 || (size_t)reg >= sizeof(regOffsets) / sizeof(regOffsets[0]))
      return -UNW_EBADREG;
   memcpy(val, (const uint8_t*)&c->thread->regs + regOffsets[reg], sizeof(*val));
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

Unwind* Unwind_new(const Snapshot* snapshot) {
   Unwind* this = Util_xcalloc(1, sizeof(*this));
   this->snap = snapshot;
   for (size_t i = 0; i < snapshot->maps.count; i++)
      addMapping(this, &snapshot->maps.entries[i]);
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
   for (size_t i = 0; i < this->imageCount; i++)
      freeImage(this->images[i]);
   free(this->images);
   free(this->modules);
   free(this);
}

size_t Unwind_thread(Unwind* this, const SnapshotThread* thread, uint64_t* pcs, size_t maxFrames) {
   if (!thread->captured || maxFrames == 0)
      return 0;
   pcs[0] = thread->regs.rip;
   Cursor c = { this, thread };
   unw_cursor_t cursor;
   if (!this->as || unw_init_remote(&cursor, this->as, &c) < 0)
      return 1;
   size_t n = 1;
   unw_word_t prevSp = thread->regs.rsp;
   while (n < maxFrames && unw_step(&cursor) > 0) {
      unw_word_t ip, sp;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cursor, UNW_REG_SP, &sp) < 0 || ip == 0)
         break;
      /* Loop guard: each caller's frame lies above its callee's. */
      if (sp <= prevSp)
         break;
      pcs[n++] = ip;
      prevSp = sp;
   }
   return n;
}
