/* Signal handler installation: see Signals.h. */
#include "stacktop/Signals.h"

#include <signal.h>
#include <string.h>

void Signals_install(const int* signals, size_t count, void (*handler)(int), int flags, bool blockAll) {
   struct sigaction sa;
   memset(&sa, 0, sizeof(sa));
   sa.sa_handler = handler;
   sa.sa_flags = flags;
   if (blockAll)
      sigfillset(&sa.sa_mask);
   else
      sigemptyset(&sa.sa_mask);
   for (size_t i = 0; i < count; i++)
      sigaction(signals[i], &sa, NULL);
}

void Signals_ignorePipe(void) {
   struct sigaction sa;
   memset(&sa, 0, sizeof(sa));
   sa.sa_handler = SIG_IGN;
   sigemptyset(&sa.sa_mask);
   sigaction(SIGPIPE, &sa, NULL);
}
