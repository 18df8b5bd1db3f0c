#ifndef STACKTOP_HELPVIEW_H
#define STACKTOP_HELPVIEW_H
/* The help screen (? / F1), generated from the key table. */
#include <stddef.h>

#include "stacktop/Theme.h"

typedef struct HelpView_ {
   size_t scroll;
   int pageRows;
} HelpView;

/* Number of help lines; line i into buf (isTitle set for section titles).
 * Pure, so the tests can check that every binding is listed. */
size_t HelpView_lineCount(void);
void HelpView_line(size_t i, char* buf, size_t size, int* isTitle);
void HelpView_scroll(HelpView* this, long delta);
void HelpView_draw(HelpView* this, const Theme* theme, int y, int height, int width);

#endif
