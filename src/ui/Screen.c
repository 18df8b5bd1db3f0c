/* curses set-up and teardown, signals, key input. */
#include "stacktop/Screen.h"

#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>
#include <wchar.h>

#include "stacktop/Signals.h"
#include "stacktop/Util.h"

/* Signal handlers can only leave a flag: the main loop polls it after every
 * getch (which a signal interrupts) and shuts curses down in order. */
static volatile sig_atomic_t stopRequested = 0;
/* Fatal signals must still restore the terminal; the handler needs to know
 * whether curses is running. Set only by Screen_init/Screen_done. */
static volatile sig_atomic_t cursesActive = 0;

static void onStop(int sig) {
   (void)sig;
   stopRequested = 1;
}

static void onFatal(int sig) {
   /* endwin() is not async-signal-safe, but the process is dying anyway and
    * a terminal left in raw mode is the worse outcome. */
   if (cursesActive)
      endwin();
   signal(sig, SIG_DFL);
   raise(sig);
}

static void installHandlers(void) {
   static const int stopSignals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
   static const int fatalSignals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
   /* no SA_RESTART: getch must return early */
   Signals_install(stopSignals, SIGNALS_COUNT(stopSignals), onStop, 0, false);
   Signals_install(fatalSignals, SIGNALS_COUNT(fatalSignals), onFatal, SA_RESETHAND, false);
   Signals_ignorePipe();
}

static void restoreHandlers(void) {
   static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
   for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
      signal(signals[i], SIG_DFL);
}

/* With COLORTERM=truecolor but a 256-colour $TERM, a "-direct" terminfo entry
 * (xterm-direct, tmux-direct, ...) lets ncurses send 24-bit colours. Returns
 * the entry to use, or NULL for $TERM itself. */
static const char* directVariant(char* buf, size_t size) {
   const char* colorterm = getenv("COLORTERM");
   const char* term = getenv("TERM");
   if (!colorterm || !term || (strcmp(colorterm, "truecolor") != 0 && strcmp(colorterm, "24bit") != 0))
      return NULL;
   if (strstr(term, "direct"))
      return NULL;
   Util_format(buf, size, "%s", term);
   char* dash = strchr(buf, '-');
   if (dash)
      *dash = '\0';
   size_t len = strlen(buf);
   Util_format(buf + len, size - len, "-direct");
   int err = 0;
   if (setupterm(buf, STDOUT_FILENO, &err) != OK)
      return NULL;
   int colors = tigetnum("colors");
   del_curterm(cur_term);
   return colors >= 0x1000000 ? buf : NULL;
}

int Screen_init(Screen* this, char* err, size_t errSize) {
   memset(this, 0, sizeof(*this));
   /* main() has set the locale before anything read a process name. */
   this->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
   if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
      Util_format(err, errSize, "the monitor needs a terminal on stdin and stdout; use -b for batch mode");
      return -1;
   }
   char direct[64];
   const char* termName = directVariant(direct, sizeof(direct));
   SCREEN* screen = newterm(termName, stdout, stdin);
   if (!screen) {
      const char* term = getenv("TERM");
      Util_format(err, errSize, "cannot start curses on terminal type '%s'; set TERM to a known type (e.g. xterm)",
                  term ? term : "(unset)");
      return -1;
   }
   this->term = screen;
   this->active = true;
   cursesActive = 1;
   stopRequested = 0;
   installHandlers();
   cbreak();
   noecho();
   nonl();
   keypad(stdscr, TRUE);
   set_escdelay(25);
   curs_set(0);
   /* Clicks and the wheel where the terminal reports them (a press is
    * enough: waiting for the release would add a round trip). */
   mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
   mouseinterval(0);
   return 0;
}

void Screen_done(Screen* this) {
   if (!this->active)
      return;
   curs_set(1);
   endwin();
   cursesActive = 0;
   this->active = false;
   delscreen(this->term);
   this->term = NULL;
   restoreHandlers();
}

int Screen_getKey(Screen* this, int timeoutMs) {
   (void)this;
   if (stopRequested)
      return ERR;
   wtimeout(stdscr, timeoutMs < 0 ? 0 : timeoutMs);
   wint_t wc;
   int rc = wget_wch(stdscr, &wc);
   if (rc == ERR)
      return ERR;
   if (rc == KEY_CODE_YES || wc < 0x80)
      return (int)wc;
   /* A typed non-ASCII character: kept apart from the KEY_* codes it
    * would collide with (KEY_MIN is U+0101). */
   return SCREEN_KEY_CHAR | (int)(wc & 0x1fffff);
}

size_t Screen_keyUtf8(int key, char* out, size_t size) {
   if (size == 0)
      return 0;
   out[0] = '\0';
   wchar_t wc;
   if (key >= 0x20 && key < 0x7f)
      wc = (wchar_t)key;
   else if (key & SCREEN_KEY_CHAR)
      wc = (wchar_t)(key & ~SCREEN_KEY_CHAR);
   else
      return 0;
   char buf[MB_LEN_MAX];
   mbstate_t state;
   memset(&state, 0, sizeof(state));
   size_t n = wcrtomb(buf, wc, &state);
   if (n == (size_t)-1 || n >= size)
      return 0;
   memcpy(out, buf, n);
   out[n] = '\0';
   return n;
}

bool Screen_mouse(Screen* this, ScreenMouse* out) {
   (void)this;
   MEVENT ev;
   if (getmouse(&ev) != OK)
      return false;
   out->x = ev.x;
   out->y = ev.y;
   out->click = (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_RELEASED)) != 0;
   out->wheel = (ev.bstate & BUTTON4_PRESSED) ? -1 : (ev.bstate & BUTTON5_PRESSED) ? 1 : 0;
   return out->click || out->wheel;
}

bool Screen_stopRequested(void) {
   return stopRequested != 0;
}

int Screen_lines(void) {
   return LINES;
}

int Screen_columns(void) {
   return COLS;
}
