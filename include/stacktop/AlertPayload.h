#ifndef STACKTOP_ALERTPAYLOAD_H
#define STACKTOP_ALERTPAYLOAD_H
/* The body of an Alertmanager webhook notification (payload version "4",
 * Alertmanager 0.25 and later), parsed with libjansson (JanssonApi) into
 * plain strings. Everything in it is hostile input: the JSON must be valid
 * UTF-8 without NUL characters and without duplicate keys; at most
 * ALERTPAYLOAD_ALERTS_MAX alerts, ALERTPAYLOAD_PAIRS_MAX labels and as many
 * annotations per alert are kept (the rest are counted), and every string is
 * cut to its bound at a character boundary. An alert the receiver cannot use
 * (no labels, no fingerprint, a startsAt that is not a time) stays in the
 * list with the reason in `invalid`. Strings are kept as sent (valid UTF-8);
 * whoever writes them out neutralises them (Printable, Json). */
#include <stdbool.h>
#include <stddef.h>

#define ALERTPAYLOAD_ALERTS_MAX 1000
#define ALERTPAYLOAD_PAIRS_MAX 64
#define ALERTPAYLOAD_KEY_MAX 128
#define ALERTPAYLOAD_LABEL_MAX 1024
#define ALERTPAYLOAD_ANNOTATION_MAX 4096
#define ALERTPAYLOAD_URL_MAX 2048

typedef struct AlertPair_ {
   char* key;
   char* value;
} AlertPair;

typedef struct Alert_ {
   bool firing;  /* status "firing" (else resolved) */
   char* status; /* as sent */
   AlertPair* labels;
   size_t labelCount;
   AlertPair* annotations;
   size_t annotationCount;
   size_t pairsDropped; /* labels and annotations past the bound */
   char* startsAt;      /* RFC 3339 */
   char* endsAt;
   char* generatorUrl;
   char* fingerprint; /* hex */
   char invalid[160]; /* why the alert cannot be used; "" when it can */
} Alert;

typedef struct AlertPayload_ {
   char* receiver;
   char* status;
   char* groupKey;
   char* externalUrl;
   long truncatedAlerts; /* Alertmanager's max_alerts cut these */
   Alert* alerts;
   size_t alertCount;
   size_t alertsDropped; /* past ALERTPAYLOAD_ALERTS_MAX */
} AlertPayload;

/* Parses len bytes. Returns 0, or -1 with what is wrong in err (not JSON, not
 * an object, version other than "4", no alerts array); the payload is then
 * empty. */
int AlertPayload_parse(AlertPayload* this, const char* data, size_t len, char* err, size_t errSize);
void AlertPayload_free(AlertPayload* this);
/* The value of a label / annotation, or NULL. */
const char* Alert_label(const Alert* alert, const char* name);
const char* Alert_annotation(const Alert* alert, const char* name);

#endif
