/* Signals with a question, renicing and the user list, for the monitor. */
#include "stacktop/ProcessActions.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/Util.h"

/* "1234 (nginx)" for a target, from the current sample. */
static void describe(const Sampler* sampler, ProcessKey key, char* buf, size_t size) {
   const ProcessSample* p = Sampler_find(sampler, key.pid);
   Util_format(buf, size, "%d (%s)", (int)key.pid, p && p->startTicks == key.startTicks ? p->comm : "gone");
}

static const char* signalName(int sig) {
   return ProcessControl_signalAt(ProcessControl_signalIndex(sig))->name;
}

bool ProcessActions_openSignals(PendingSignal* pending, Menu* menu, const ProcessTable* table, const Sampler* sampler) {
   pending->active = false;
   pending->count = ProcessTable_targets(table, pending->targets, PROCESS_ACTIONS_MAX_TARGETS);
   if (pending->count == 0)
      return false;
   char title[96], who[64];
   describe(sampler, pending->targets[0], who, sizeof(who));
   if (pending->count == 1)
      Util_format(title, sizeof(title), "Send signal to %s:", who);
   else
      Util_format(title, sizeof(title), "Send signal to %zu tagged processes:", pending->count);
   Menu_reset(menu, title);
   for (size_t i = 0; i < ProcessControl_signalCount(); i++) {
      const SignalInfo* s = ProcessControl_signalAt(i);
      char line[128];
      Util_format(line, sizeof(line), "%2d %-8s %s", s->number, s->name, s->description);
      Menu_add(menu, line, s->number);
   }
   Menu_select(menu, SIGTERM);
   return true;
}

void ProcessActions_ask(PendingSignal* pending, int sig, const Sampler* sampler) {
   char who[64];
   describe(sampler, pending->targets[0], who, sizeof(who));
   if (pending->count == 1)
      Util_format(pending->question, sizeof(pending->question), "Send %s to %s?", signalName(sig), who);
   else
      Util_format(pending->question, sizeof(pending->question), "Send %s to %zu tagged processes (%s, ...)?",
                  signalName(sig), pending->count, who);
   pending->signal = sig;
   pending->active = true;
}

bool ProcessActions_send(PendingSignal* pending, const Sampler* sampler, char* msg, size_t msgSize) {
   pending->active = false;
   size_t sent = 0, failed = 0;
   char firstError[256] = "", who[64] = "";
   for (size_t i = 0; i < pending->count; i++) {
      char err[256];
      if (ProcessControl_signal(pending->targets[i], pending->signal, err, sizeof(err)) == 0) {
         if (sent++ == 0)
            describe(sampler, pending->targets[i], who, sizeof(who));
      } else if (failed++ == 0) {
         Util_format(firstError, sizeof(firstError), "%s", err);
      }
   }
   const char* name = signalName(pending->signal);
   if (failed)
      Util_format(msg, msgSize, "%s%s (%zu sent, %zu failed)", firstError, failed > 1 ? " and more" : "", sent, failed);
   else if (sent == 1)
      Util_format(msg, msgSize, "sent %s to %s", name, who);
   else
      Util_format(msg, msgSize, "sent %s to %zu processes", name, sent);
   return failed == 0;
}

bool ProcessActions_renice(const ProcessTable* table, const Sampler* sampler, int delta, char* msg, size_t msgSize) {
   ProcessKey* targets = Util_xcalloc(PROCESS_ACTIONS_MAX_TARGETS, sizeof(ProcessKey));
   size_t n = ProcessTable_targets(table, targets, PROCESS_ACTIONS_MAX_TARGETS);
   size_t done = 0, failed = 0;
   int nice = 0;
   char firstError[256] = "", who[64] = "";
   for (size_t i = 0; i < n; i++) {
      char err[256];
      if (ProcessControl_renice(targets[i], delta, &nice, err, sizeof(err)) == 0) {
         if (done++ == 0)
            describe(sampler, targets[i], who, sizeof(who));
      } else if (failed++ == 0) {
         Util_format(firstError, sizeof(firstError), "%s", err);
      }
   }
   free(targets);
   if (failed)
      Util_format(msg, msgSize, "%s%s", firstError, failed > 1 ? " (and more)" : "");
   else if (done == 1)
      Util_format(msg, msgSize, "nice of %s is now %d", who, nice);
   else
      Util_format(msg, msgSize, "reniced %zu processes by %+d", done, delta);
   return failed == 0;
}

static int compareUsers(const void* a, const void* b) {
   return strcmp(((const MenuItem*)a)->text, ((const MenuItem*)b)->text);
}

void ProcessActions_fillUsers(Menu* menu, const ProcessSample* const* procs, size_t count, bool filtered, uid_t uid) {
   Menu_reset(menu, "Show processes of:");
   Menu_add(menu, "All users", -1);
   for (size_t i = 0; i < count; i++) {
      bool seen = false;
      for (size_t k = 1; k < menu->count && !seen; k++)
         seen = menu->items[k].value == (long)procs[i]->uid;
      if (!seen)
         Menu_add(menu, procs[i]->user, (long)procs[i]->uid);
   }
   if (menu->count > 2)
      qsort(menu->items + 1, menu->count - 1, sizeof(MenuItem), compareUsers);
   Menu_select(menu, filtered ? (long)uid : -1);
}
