#ifndef STACKTOP_DEMANGLER_H
#define STACKTOP_DEMANGLER_H
/* C++ and Rust (legacy and v0) symbol names as people read them, through
 * libiberty's demangler (the one binutils and gdb use; only the callback
 * entry points of cp-demangle.c and rust-demangle.c, which may be linked into
 * any program: see README), with a cache
 * keyed by the raw name's address (ELF and DWARF strings stay put for the
 * life of the Symbols cache that owns both).
 *
 * C++: namespaces, classes, template arguments and parameter types, without
 * the return type (DMGL_PARAMS | DMGL_ANSI | DMGL_RET_DROP): "void
 * shop::park<double>(double)" prints as "shop::park<double>(double)"; clones
 * keep their suffix ("f() [clone .cold]"). Rust: paths without the legacy
 * hash ("core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>").
 * Go names (pclntab) are never passed here. */
#include <stddef.h>

/* Longer mangled names are shown raw: libiberty's C++ demangler puts about
 * 64 bytes per mangled byte on the stack (1 MiB here). */
#define DEMANGLER_MAX_MANGLED 16384

typedef struct Demangler_ Demangler;

Demangler* Demangler_new(void);
void Demangler_free(Demangler* this);
/* The readable form of a mangled name (owned by the Demangler), else name
 * itself (also NULL for NULL). */
const char* Demangler_name(Demangler* this, const char* name);
/* A demangled copy (malloc'd, the caller frees it), or NULL when name is not
 * a C++ or Rust mangled name. No cache. */
char* Demangler_demangle(const char* name);

#endif
