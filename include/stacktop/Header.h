#ifndef STACKTOP_HEADER_H
#define STACKTOP_HEADER_H
/* The meters above the process table: CPU, memory (used and available %),
 * swap, tasks and threads by state, load and uptime. */
#include "stacktop/Sampler.h"
#include "stacktop/Theme.h"

/* Lines the header takes. */
#define HEADER_LINES 4

/* Meter text of a used/total pair of KiB values ("1.20G/3.80G"). */
void Header_usageText(char* buf, size_t size, unsigned long usedKiB, unsigned long totalKiB);
/* Draws the header at the top of the screen. */
void Header_draw(const SystemSample* sys, const Theme* theme, int width);

#endif
