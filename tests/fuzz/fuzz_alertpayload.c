/* libFuzzer harness for AlertPayload_parse (the Alertmanager webhook body,
 * sent by whoever reaches alert_listen) and the invariants the receiver
 * relies on: bounds hold, every string is there and within its limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stacktop/AlertPayload.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void checkPairs(const AlertPair* p, size_t n, size_t valueMax) {
   if (n > ALERTPAYLOAD_PAIRS_MAX)
      abort();
   for (size_t i = 0; i < n; i++) {
      if (!p[i].key || !p[i].value || strlen(p[i].key) > ALERTPAYLOAD_KEY_MAX || strlen(p[i].value) > valueMax)
         abort();
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   AlertPayload p;
   char err[256];
   if (AlertPayload_parse(&p, (const char*)data, size, err, sizeof(err)) < 0) {
      if (p.alerts || p.alertCount || !err[0])
         abort();
      return 0;
   }
   if (p.alertCount > ALERTPAYLOAD_ALERTS_MAX)
      abort();
   for (size_t i = 0; i < p.alertCount; i++) {
      const Alert* a = &p.alerts[i];
      checkPairs(a->labels, a->labelCount, ALERTPAYLOAD_LABEL_MAX);
      checkPairs(a->annotations, a->annotationCount, ALERTPAYLOAD_ANNOTATION_MAX);
      if (!a->invalid[0] && (!a->fingerprint || !a->startsAt || !a->status || a->labelCount == 0))
         abort();
      if (a->generatorUrl && strlen(a->generatorUrl) > ALERTPAYLOAD_URL_MAX)
         abort();
      (void)Alert_label(a, "groupname");
   }
   AlertPayload_free(&p);
   return 0;
}
