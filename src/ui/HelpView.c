/* Help screen built from the KeyMap table: one line per (scope, action). */
#include "stacktop/HelpView.h"

#include <curses.h>
#include <stdbool.h>
#include <string.h>

#include "stacktop/Draw.h"
#include "stacktop/KeyMap.h"
#include "stacktop/Util.h"

/* Line i of the help, walking the table: a title per scope, then one line
 * per distinct action of that scope, then a blank line. Returns false past
 * the end. */
static bool lineAt(size_t wanted, char* buf, size_t size, int* isTitle) {
   size_t line = 0;
   for (int scope = 0; scope < KEYSCOPE_COUNT; scope++) {
      if (line++ == wanted) {
         Util_format(buf, size, "%s", KeyMap_scopeTitle((KeyScope)scope));
         *isTitle = 1;
         return true;
      }
      bool seen[ACTION_COUNT] = { false };
      for (size_t i = 0; i < KeyMap_count(); i++) {
         const KeyBinding* b = KeyMap_at(i);
         if ((int)b->scope != scope || seen[b->action])
            continue;
         seen[b->action] = true;
         if (line++ != wanted)
            continue;
         char keys[64];
         KeyMap_keyNames(b->scope, b->action, keys, sizeof(keys));
         Util_format(buf, size, "  %-18s %s", keys, b->help);
         *isTitle = 0;
         return true;
      }
      if (line++ == wanted) {
         buf[0] = '\0';
         *isTitle = 0;
         return true;
      }
   }
   return false;
}

size_t HelpView_lineCount(void) {
   char buf[256];
   int title;
   size_t n = 0;
   while (lineAt(n, buf, sizeof(buf), &title))
      n++;
   return n;
}

void HelpView_line(size_t i, char* buf, size_t size, int* isTitle) {
   if (!lineAt(i, buf, size, isTitle)) {
      buf[0] = '\0';
      *isTitle = 0;
   }
}

void HelpView_scroll(HelpView* this, long delta) {
   long target = (long)this->scroll + delta;
   long max = (long)HelpView_lineCount() - (this->pageRows > 0 ? this->pageRows : 1);
   if (target > max)
      target = max;
   this->scroll = target < 0 ? 0 : (size_t)target;
}

void HelpView_draw(HelpView* this, const Theme* theme, int y, int height, int width) {
   /* How to leave it is on the status line, from KeyMap's help rows. */
   Draw_text(y, 0, "stacktop " STACKTOP_VERSION " keys", width, Theme_attr(theme, STYLE_TITLE));
   this->pageRows = height - 1 > 0 ? height - 1 : 1;
   size_t total = HelpView_lineCount();
   for (int i = 0; i < this->pageRows && this->scroll + (size_t)i < total; i++) {
      char buf[256];
      int title;
      HelpView_line(this->scroll + (size_t)i, buf, sizeof(buf), &title);
      Draw_text(y + 1 + i, 0, buf, width, Theme_attr(theme, title ? STYLE_TITLE : STYLE_TEXT));
   }
}
