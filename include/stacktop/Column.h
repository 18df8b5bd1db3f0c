#ifndef STACKTOP_COLUMN_H
#define STACKTOP_COLUMN_H
/* The process-table columns: one table, one row per column (name for -s and
 * the rc file, header, width, comparator, formatter, what the Sampler must
 * read for it), shared by the curses view, batch mode and the watcher. The
 * enum order is the order on screen. Adding a column is one enum entry and
 * one table row. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Sampler.h"

typedef enum ColumnId_ {
   COL_PID,
   COL_PPID,
   COL_USER,
   COL_STATE,
   COL_NICE,
   COL_THREADS,
   COL_CPU,
   COL_PROCESSOR,
   COL_MEM,
   COL_VIRT,
   COL_RES,
   COL_SHR,
   COL_DATA,
   COL_RGROW,
   COL_GOROUTINES,
   COL_GGROW,
   COL_IO_READ,
   COL_IO_WRITE,
   COL_FDS,
   COL_START,
   COL_TIME,
   COL_WCHAN,
   COL_COMMAND,
   COL_COUNT,
} ColumnId;

typedef enum ColumnKind_ {
   COLUMN_NUMBER, /* plain right-aligned number */
   COLUMN_SIZE,   /* KiB, shown human-readable and coloured by magnitude */
   COLUMN_PERCENT,
   COLUMN_TEXT,
} ColumnKind;

typedef int (*ColumnCompare)(const ProcessSample* a, const ProcessSample* b);
typedef void (*ColumnFormat)(const ProcessSample* p, char* buf, size_t size);

typedef struct Column_ {
   const char* name;   /* for -s, the rc file and <,>: "res" */
   const char* header; /* "RES" */
   const char* description;
   int width; /* cells at least; 0: takes the rest of the line */
   bool leftAlign;
   ColumnKind kind;
   bool defaultDescending; /* numbers sort biggest first, text A..Z */
   bool shownByDefault;    /* in the default column set (and batch text output) */
   bool onlyWithGo;        /* shown only while some process on screen is a Go program */
   bool grows;             /* widens to the widest value on screen (THR 10051) */
   bool threadValue;       /* means something on a thread row (else blank there) */
   unsigned fields;        /* SamplerField bits the Sampler must read for it */
   ColumnCompare compare;  /* ascending, without the pid tie-break */
   ColumnFormat format;    /* one cell, without padding */
} Column;

const Column* Column_get(ColumnId id);
/* Case-insensitive lookup by name or header; returns -1 when unknown. */
int Column_byName(const char* name);
/* Every column name, comma-separated in table order, for messages. */
const char* Column_names(void);
/* Whether any of rows[0..count) is a Go process (goroutines read). */
bool Column_anyGo(const ProcessSample* const* rows, size_t count);
/* SamplerField bits needed to show the columns marked in visible. */
unsigned Column_fields(const bool visible[COL_COUNT]);

/* qsort-style comparison of a and b by column id, ascending. Ties are broken by pid. */
int Column_compare(ColumnId id, const ProcessSample* a, const ProcessSample* b);
/* Sorts an array of pointers by id; descending when `descending`. */
void Column_sort(const ProcessSample** rows, size_t count, ColumnId id, bool descending);

/* Formats one cell (without padding) into buf. */
void Column_format(ColumnId id, const ProcessSample* p, char* buf, size_t size);

#endif
