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
/* A typed non-ASCII character is returned as SCREEN_KEY_CHAR | code point. */
#define SCREEN_KEY_CHAR 0x40000000

typedef struct ScreenMouse_ {
   int x, y;
   bool click; /* button 1 pressed */
   int wheel;  /* -1 up, 1 down, 0 none */
} ScreenMouse;

/* Waits up to timeoutMs for a key; returns an ASCII character, a curses key
 * code (KEY_RESIZE, KEY_MOUSE, ...), SCREEN_KEY_CHAR | code point for
 * other characters, or -1 (ERR) on timeout or when a signal arrived. */
int Screen_getKey(Screen* this, int timeoutMs);
/* The UTF-8 bytes of a printable key from Screen_getKey (NUL-terminated);
 * returns their count, 0 for a control or function key. */
size_t Screen_keyUtf8(int key, char* out, size_t size);
/* After KEY_MOUSE: the event, when it is a click or a wheel step. */
bool Screen_mouse(Screen* this, ScreenMouse* out);
/* A SIGINT, SIGTERM or SIGHUP asked the monitor to quit. */
bool Screen_stopRequested(void);
int Screen_lines(void);
int Screen_columns(void);

#endif
