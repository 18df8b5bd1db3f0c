#ifndef STACKTOP_SCREEN_H
#define STACKTOP_SCREEN_H
/* The curses terminal: start-up, teardown on every exit path (normal quit,
 * errors, SIGINT/SIGTERM/SIGHUP, fatal signals), resize, and key input with
 * a timeout so the monitor blocks instead of spinning. */
#include <stdbool.h>
#include <stddef.h>

typedef struct Screen_ {
   bool active; /* curses is running: the terminal must be restored */
   bool utf8;   /* the locale can draw box and block characters */
   void* term;  /* the curses SCREEN from newterm (opaque here) */
} Screen;

/* Starts curses and installs the signal handlers. Returns 0, or -1 with a
 * one-line message (e.g. unknown $TERM) and the terminal untouched. */
int Screen_init(Screen* this, char* err, size_t errSize);
/* Restores the terminal; safe to call more than once. */
void Screen_done(Screen* this);
/* Waits up to timeoutMs for a key; returns the curses key code, KEY_RESIZE,
 * or -1 (ERR) on timeout or when a signal arrived. */
int Screen_getKey(Screen* this, int timeoutMs);
/* A SIGINT, SIGTERM or SIGHUP asked the monitor to quit. */
bool Screen_stopRequested(void);
int Screen_lines(void);
int Screen_columns(void);

#endif
