/* The command table; see Commands.h. */
#include "stacktop/Commands.h"

#include <string.h>

#include "stacktop/BundleCli.h"
#include "stacktop/Dump.h"
#include "stacktop/Options.h"
#include "stacktop/Watch.h"

static const Command commands[] = {
   { .name = "", .main = NULL, .cli = Options_command },
   { .name = "dump", .main = Dump_main, .cli = Dump_command },
   { .name = "watch", .main = Watch_main, .cli = Watch_command },
   { .name = "bundle", .main = BundleCli_main, .cli = BundleCli_command },
};

size_t Commands_list(const Command** out) {
   *out = commands;
   return sizeof(commands) / sizeof(commands[0]);
}

const Command* Commands_find(const char* name) {
   for (size_t i = 1; i < sizeof(commands) / sizeof(commands[0]); i++) {
      if (strcmp(commands[i].name, name) == 0)
         return &commands[i];
   }
   return NULL;
}
