/* Flame graphs as SVG: see FlameSvg.h. The layout follows flamegraph.pl
 * (1200 pixels wide, 16-pixel frames, root at the bottom, names truncated
 * with ".." to what fits); each box is a nested <svg> viewport, which clips
 * its text to the box, inside a <g> whose <title> is the hover text. */
#include "stacktop/FlameSvg.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Printable.h"
#include "stacktop/Utf8.h"
#include "stacktop/Util.h"

#define IMAGE_WIDTH 1200.0
#define FRAME_HEIGHT 16
#define FONT_SIZE 12
#define FONT_WIDTH 0.62 /* average glyph width per font size: Verdana 0.59, DejaVu Sans (its usual stand-in) wider */
#define X_PAD 10.0
#define TOP_PAD (FONT_SIZE * 4)
#define BOTTOM_PAD (FONT_SIZE * 2 + 4)
#define MIN_WIDTH 0.1 /* pixels: narrower frames are not drawn */
#define TEXT_X 3      /* text inset within its box */
#define SITES_LISTED 8

/* Where a function was when it was on these stacks: "file:line", or its module. */
typedef struct Site_ {
   char* text;
   uint64_t count;
} Site;

typedef struct Node_ {
   char* name;
   uint64_t count;
   struct Node_* children; /* sorted by name */
   size_t childCount, childCap;
   Site* sites; /* in order of first appearance */
   size_t siteCount, siteCap;
} Node;

struct FlameSvg_ {
   Node root;
   char* unit;
   size_t depth; /* levels above the root */
};

static char* neutralCopy(const char* s) {
   return Printable_dup(s);
}

FlameSvg* FlameSvg_new(const char* root, const char* unit) {
   FlameSvg* this = Util_xcalloc(1, sizeof(FlameSvg));
   this->root.name = neutralCopy(root);
   this->unit = neutralCopy(unit);
   return this;
}

/* Frees a tree without recursion (a stack may be thousands of frames
 * deep): every node in breadth-first order, then from the last, so each
 * children array is freed after the nodes in it. */
static void freeTree(Node* root) {
   size_t cap = 16, n = 0;
   Node** all = Util_xcalloc(cap, sizeof(Node*));
   all[n++] = root;
   for (size_t i = 0; i < n; i++) {
      Node* node = all[i];
      for (size_t k = 0; k < node->childCount; k++) {
         Util_growArray((void**)&all, &cap, n, sizeof(Node*));
         all[n++] = &node->children[k];
      }
   }
   for (size_t i = n; i-- > 0;) {
      Node* node = all[i];
      for (size_t k = 0; k < node->siteCount; k++)
         free(node->sites[k].text);
      free(node->sites);
      free(node->children);
      free(node->name);
   }
   free(all);
}

void FlameSvg_free(FlameSvg* this) {
   if (!this)
      return;
   freeTree(&this->root);
   free(this->unit);
   free(this);
}

/* The child called name (neutralised), inserted in name order when new. */
static Node* childOf(Node* parent, const char* name) {
   size_t lo = 0, hi = parent->childCount;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = strcmp(parent->children[mid].name, name);
      if (c == 0)
         return &parent->children[mid];
      if (c < 0)
         lo = mid + 1;
      else
         hi = mid;
   }
   Util_growArray((void**)&parent->children, &parent->childCap, parent->childCount, sizeof(Node));
   memmove(&parent->children[lo + 1], &parent->children[lo], (parent->childCount - lo) * sizeof(Node));
   parent->childCount++;
   parent->children[lo] = (Node){ .name = Util_xstrdup(name) };
   return &parent->children[lo];
}

static void addSite(Node* node, const FlameFrame* f, uint64_t count) {
   char text[4200];
   if (f->file)
      Util_format(text, sizeof(text), "%s:%d", f->file, f->line);
   else if (f->module)
      Util_format(text, sizeof(text), "%s", f->module);
   else
      return;
   Printable_inPlace(text, sizeof(text));
   for (size_t i = 0; i < node->siteCount; i++) {
      if (strcmp(node->sites[i].text, text) == 0) {
         node->sites[i].count += count;
         return;
      }
   }
   Util_growArray((void**)&node->sites, &node->siteCap, node->siteCount, sizeof(Site));
   node->sites[node->siteCount++] = (Site){ .text = Util_xstrdup(text), .count = count };
}

void FlameSvg_add(FlameSvg* this, const FlameFrame* frames, size_t n, uint64_t count) {
   Node* node = &this->root;
   node->count += count;
   for (size_t i = 0; i < n; i++) {
      char* name = neutralCopy(frames[i].name);
      node = childOf(node, name);
      free(name);
      node->count += count;
      addSite(node, &frames[i], count);
   }
   if (n > this->depth)
      this->depth = n;
}

/* ---- XML text ---------------------------------------------------------------- */

/* The length of the character at p if it may appear in a name: valid
 * UTF-8 that XML 1.0 allows (not U+FFFE/U+FFFF), and no control at all (C1
 * ones are valid XML, but some terminals obey them); else 0. */
static size_t xmlCharAt(const char* p) {
   uint32_t cp;
   size_t n = Utf8_charAt(p, &cp);
   if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff)
      return 0;
   return n;
}

/* Writes at most maxChars characters of s (SIZE_MAX: all) as XML character
 * data, ending in ".." when cut; bytes that are not allowed become '?'. */
static void xmlPut(const char* s, size_t maxChars, FILE* out) {
   const char* p = s;
   size_t total = 0;
   for (const char* q = p; *q; total++) {
      size_t n = xmlCharAt(q);
      q += n ? n : 1;
   }
   bool cut = total > maxChars;
   size_t keep = cut ? maxChars - 2 : total;
   for (size_t i = 0; i < keep; i++) {
      size_t n = xmlCharAt(p);
      if (n == 0) {
         fputc('?', out);
         p++;
         continue;
      }
      switch (*p) {
      case '&': fputs("&amp;", out); break;
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\'': fputs("&apos;", out); break;
      default: fwrite(p, 1, n, out);
      }
      p += n;
   }
   if (cut)
      fputs("..", out);
}

/* ---- drawing ------------------------------------------------------------------ */

/* flamegraph.pl's "hot" palette, chosen by a hash of the name. */
static void colourOf(const char* name, int* r, int* g, int* b) {
   if (name[0] == '[') { /* "[stack cut: ...]": not code */
      *r = *g = *b = 190;
      return;
   }
   uint64_t h = 0xcbf29ce484222325ull;
   for (const unsigned char* p = (const unsigned char*)name; *p; p++) {
      h ^= *p;
      h *= 0x100000001b3ull;
   }
   *r = 205 + (int)(50 * ((h >> 8) & 0xff) / 255);
   *g = (int)(230 * ((h >> 16) & 0xff) / 255);
   *b = (int)(55 * ((h >> 24) & 0xff) / 255);
}

static void writeTitle(const FlameSvg* this, const Node* node, uint64_t total, FILE* out) {
   fputs("<title>", out);
   xmlPut(node->name, SIZE_MAX, out);
   fprintf(out, " (%" PRIu64 " ", node->count);
   xmlPut(this->unit, SIZE_MAX, out);
   fprintf(out, ", %.2f%%)", total ? 100.0 * (double)node->count / (double)total : 0.0);
   for (size_t i = 0; i < node->siteCount && i < SITES_LISTED; i++) {
      fputc('\n', out);
      xmlPut(node->sites[i].text, SIZE_MAX, out);
      if (node->siteCount > 1)
         fprintf(out, " (%" PRIu64 ")", node->sites[i].count);
   }
   if (node->siteCount > SITES_LISTED)
      fprintf(out, "\n+%zu more call sites", node->siteCount - SITES_LISTED);
   fputs("</title>", out);
}

static void writeBox(const FlameSvg* this, const Node* node, double x, double y, double width, uint64_t total,
                     FILE* out) {
   int r, g, b;
   colourOf(node->name, &r, &g, &b);
   fputs("<g>", out);
   writeTitle(this, node, total, out);
   fprintf(out,
           "<svg x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\"><rect width=\"100%%\" height=\"100%%\" "
           "rx=\"2\" fill=\"rgb(%d,%d,%d)\"/>",
           x, y, width, FRAME_HEIGHT - 1, r, g, b);
   size_t fits = (size_t)((width - TEXT_X) / (FONT_SIZE * FONT_WIDTH));
   if (fits >= 3) {
      fprintf(out, "<text x=\"%d\" y=\"%.1f\">", TEXT_X, FONT_SIZE - 1.5);
      xmlPut(node->name, fits, out);
      fputs("</text>", out);
   }
   fputs("</svg></g>\n", out);
}

typedef struct Pending_ {
   const Node* node;
   size_t depth;
   double x;
} Pending;

/* Draws every box at least MIN_WIDTH wide; returns how many frames were not. */
static size_t writeBoxes(const FlameSvg* this, double scale, double height, FILE* out) {
   size_t cap = 16, n = 0, skipped = 0;
   Pending* work = Util_xcalloc(cap, sizeof(Pending));
   work[n++] = (Pending){ &this->root, 0, X_PAD };
   uint64_t total = this->root.count;
   while (n) {
      Pending p = work[--n];
      double width = (double)p.node->count * scale;
      /* A thin frame's callees are thinner still: counted, not drawn. */
      if (width < MIN_WIDTH)
         skipped++;
      else
         writeBox(this, p.node, p.x, height - BOTTOM_PAD - (double)(p.depth + 1) * FRAME_HEIGHT, width, total, out);
      double x = p.x;
      for (size_t i = 0; i < p.node->childCount; i++) {
         Util_growArray((void**)&work, &cap, n, sizeof(Pending));
         work[n++] = (Pending){ &p.node->children[i], p.depth + 1, x };
         x += (double)p.node->children[i].count * scale;
      }
   }
   free(work);
   return skipped;
}

void FlameSvg_write(const FlameSvg* this, const char* title, const char* subtitle, FILE* out) {
   double height = TOP_PAD + (double)(this->depth + 1) * FRAME_HEIGHT + BOTTOM_PAD;
   double scale = this->root.count ? (IMAGE_WIDTH - 2 * X_PAD) / (double)this->root.count : 0;
   fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
   fprintf(out,
           "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
           "viewBox=\"0 0 %.0f %.0f\">\n",
           IMAGE_WIDTH, height, IMAGE_WIDTH, height);
   fprintf(out,
           "<style>text{font-family:Verdana,sans-serif;font-size:%dpx;fill:#000}"
           ".title{font-size:17px;text-anchor:middle}.note{fill:#444}</style>\n",
           FONT_SIZE);
   fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n");
   fprintf(out, "<text class=\"title\" x=\"%.0f\" y=\"%d\">", IMAGE_WIDTH / 2, FONT_SIZE * 2);
   xmlPut(title, SIZE_MAX, out);
   fputs("</text>\n", out);
   if (subtitle) {
      fprintf(out, "<text class=\"note\" x=\"%.0f\" y=\"%d\">", X_PAD, FONT_SIZE * 3 + 4);
      xmlPut(subtitle, SIZE_MAX, out);
      fputs("</text>\n", out);
   }
   size_t skipped = writeBoxes(this, scale, height, out);
   fprintf(out, "<text class=\"note\" x=\"%.0f\" y=\"%.0f\">", X_PAD, height - FONT_SIZE / 2.0);
   if (skipped)
      fprintf(out, "%zu frames narrower than %.1f pixel not drawn; ", skipped, MIN_WIDTH);
   fputs("hover over a frame for its function, call sites and count</text>\n</svg>\n", out);
}
