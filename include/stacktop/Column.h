#ifndef STACKTOP_COLUMN_H
#define STACKTOP_COLUMN_H
/* The process-table columns: names for -s and the rc file, headers, widths,
 * sort comparators and cell formatting. One table, shared by the curses view
 * and batch mode. */
#include <stdbool.h>
#include <stddef.h>

#include "stacktop/Sampler.h"

typedef enum ColumnId_ {
   COL_PID,
   COL_USER,
   COL_STATE,
   COL_THREADS,
   COL_CPU,
   COL_MEM,
   COL_VIRT,
   COL_RES,
   COL_SHR,
   COL_DATA,
   COL_RGROW,
   COL_TIME,
   COL_COMMAND,
   COL_COUNT,
} ColumnId;

typedef enum ColumnKind_ {
   COLUMN_NUMBER, /* plain right-aligned number */
   COLUMN_SIZE,   /* KiB, shown human-readable and coloured by magnitude */
   COLUMN_PERCENT,
   COLUMN_TEXT,
} ColumnKind;

typedef struct Column_ {
   const char* name;   /* for -s, the rc file and <,>: "res" */
   const char* header; /* "RES" */
   const char* description;
   int width; /* 0: takes the rest of the line */
   bool leftAlign;
   ColumnKind kind;
   bool defaultDescending; /* numbers sort biggest first, text A..Z */
} Column;

const Column* Column_get(ColumnId id);
/* Case-insensitive lookup by name or header; returns -1 when unknown. */
int Column_byName(const char* name);
/* A comma-separated list of every column name, for messages. */
const char* Column_names(void);

/* qsort-style comparison of a and b by column id, ascending. Ties are broken by pid. */
int Column_compare(ColumnId id, const ProcessSample* a, const ProcessSample* b);
/* Sorts an array of pointers by id; descending when `descending`. */
void Column_sort(const ProcessSample** rows, size_t count, ColumnId id, bool descending);

/* Formats one cell (without padding) into buf. */
void Column_format(ColumnId id, const ProcessSample* p, char* buf, size_t size);

#endif
