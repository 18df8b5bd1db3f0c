/* Signals: one handler for a list, with the flags and mask asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "stacktop/Signals.h"

static volatile sig_atomic_t calls;
static volatile sig_atomic_t usr2BlockedInHandler;

static void onSignal(int sig) {
   (void)sig;
   calls++;
   sigset_t now;
   sigprocmask(SIG_BLOCK, NULL, &now);
   usr2BlockedInHandler = sigismember(&now, SIGUSR2);
}

static void test_every_signal_of_the_list(void** state) {
   (void)state;
   static const int list[] = { SIGUSR1, SIGUSR2 };
   calls = 0;
   Signals_install(list, SIGNALS_COUNT(list), onSignal, SA_RESTART, false);
   raise(SIGUSR1);
   raise(SIGUSR2);
   assert_int_equal(calls, 2);
   struct sigaction sa;
   sigaction(SIGUSR2, NULL, &sa);
   assert_true(sa.sa_flags & SA_RESTART);
   assert_ptr_equal(sa.sa_handler, onSignal);
}

static void test_block_all_masks_other_signals(void** state) {
   (void)state;
   static const int one[] = { SIGUSR1 };
   Signals_install(one, 1, onSignal, 0, true);
   raise(SIGUSR1);
   assert_int_equal(usr2BlockedInHandler, 1);
   Signals_install(one, 1, onSignal, 0, false);
   raise(SIGUSR1);
   assert_int_equal(usr2BlockedInHandler, 0);
}

static void test_reset_hand(void** state) {
   (void)state;
   static const int one[] = { SIGUSR1 };
   Signals_install(one, 1, onSignal, SA_RESETHAND, false);
   raise(SIGUSR1);
   struct sigaction sa;
   sigaction(SIGUSR1, NULL, &sa);
   assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

static void test_ignore_pipe(void** state) {
   (void)state;
   Signals_ignorePipe();
   struct sigaction sa;
   sigaction(SIGPIPE, NULL, &sa);
   assert_ptr_equal(sa.sa_handler, SIG_IGN);
}

int main(void) {
   const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_signal_of_the_list),
      cmocka_unit_test(test_block_all_masks_other_signals),
      cmocka_unit_test(test_reset_hand),
      cmocka_unit_test(test_ignore_pipe),
   };
   return cmocka_run_group_tests(tests, NULL, NULL);
}
