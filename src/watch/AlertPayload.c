/* Alertmanager webhook payloads; see AlertPayload.h. */
#include "stacktop/AlertPayload.h"

#include <stdlib.h>
#include <string.h>

#include "stacktop/JanssonApi.h"
#include "stacktop/Util.h"

/* A copy of s cut to at most max bytes at a character boundary (s is valid UTF-8). */
static char* bounded(const char* s, size_t len, size_t max) {
   if (len > max) {
      len = max;
      while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
         len--;
   }
   char* out = Util_xmalloc(len + 1);
   memcpy(out, s, len);
   out[len] = '\0';
   return out;
}

/* The string member `key` of object o, bounded; NULL when absent or not a string. */
static char* member(const JanssonApi* j, json_t* o, const char* key, size_t max) {
   json_t* v = j->objectGet(o, key);
   if (!v || !json_is_string(v))
      return NULL;
   return bounded(j->stringValue(v), j->stringLength(v), max);
}

/* An object of strings into pairs; values that are not strings are skipped. */
static AlertPair* pairs(const JanssonApi* j, json_t* o, size_t valueMax, size_t* count, size_t* dropped) {
   *count = 0;
   if (!o || !json_is_object(o))
      return NULL;
   AlertPair* out = Util_xcalloc(ALERTPAYLOAD_PAIRS_MAX, sizeof(AlertPair));
   for (void* it = j->objectIter(o); it; it = j->objectIterNext(o, it)) {
      json_t* v = j->objectIterValue(it);
      if (!json_is_string(v))
         continue;
      if (*count == ALERTPAYLOAD_PAIRS_MAX) {
         (*dropped)++;
         continue;
      }
      const char* key = j->objectIterKey(it);
      out[*count].key = bounded(key, strlen(key), ALERTPAYLOAD_KEY_MAX);
      out[*count].value = bounded(j->stringValue(v), j->stringLength(v), valueMax);
      (*count)++;
   }
   return out;
}

static bool isHex(const char* s) {
   size_t n = strspn(s, "0123456789abcdefABCDEF");
   return n > 0 && n <= 64 && s[n] == '\0';
}

/* "2026-12-01T10:00:00.123456789Z", "2026-12-01T10:00:00+01:00" */
static bool isTime(const char* s) {
   size_t n = strlen(s);
   return n >= 20 && n <= 40 && strspn(s, "0123456789") == 4 && s[4] == '-' && s[10] == 'T' &&
          strspn(s, "0123456789-:.TZ+") == n;
}

static void parseAlert(const JanssonApi* j, json_t* o, Alert* a) {
   memset(a, 0, sizeof(*a));
   if (!json_is_object(o)) {
      Util_format(a->invalid, sizeof(a->invalid), "an alert that is not a JSON object");
      return;
   }
   a->status = member(j, o, "status", 32);
   a->firing = a->status && strcmp(a->status, "firing") == 0;
   a->labels = pairs(j, j->objectGet(o, "labels"), ALERTPAYLOAD_LABEL_MAX, &a->labelCount, &a->pairsDropped);
   a->annotations =
       pairs(j, j->objectGet(o, "annotations"), ALERTPAYLOAD_ANNOTATION_MAX, &a->annotationCount, &a->pairsDropped);
   a->startsAt = member(j, o, "startsAt", 64);
   a->endsAt = member(j, o, "endsAt", 64);
   a->generatorUrl = member(j, o, "generatorURL", ALERTPAYLOAD_URL_MAX);
   a->fingerprint = member(j, o, "fingerprint", 65);
   if (!a->status)
      Util_format(a->invalid, sizeof(a->invalid), "no status");
   else if (a->labelCount == 0)
      Util_format(a->invalid, sizeof(a->invalid), "no labels");
   else if (!a->fingerprint || !isHex(a->fingerprint))
      Util_format(a->invalid, sizeof(a->invalid), "no fingerprint (expected hex digits)");
   else if (!a->startsAt || !isTime(a->startsAt))
      Util_format(a->invalid, sizeof(a->invalid), "no startsAt (expected an RFC 3339 time)");
}

static int parseRoot(AlertPayload* this, const JanssonApi* j, json_t* root, char* err, size_t errSize) {
   if (!json_is_object(root)) {
      Util_format(err, errSize, "the body is not a JSON object; expected Alertmanager's webhook payload");
      return -1;
   }
   json_t* version = j->objectGet(root, "version");
   if (!version || !json_is_string(version) || strcmp(j->stringValue(version), "4") != 0) {
      Util_format(err, errSize, "payload version %s; expected \"4\" (Alertmanager 0.25 or later)",
                  version && json_is_string(version) ? "other than 4" : "missing");
      return -1;
   }
   json_t* alerts = j->objectGet(root, "alerts");
   if (!alerts || !json_is_array(alerts)) {
      Util_format(err, errSize, "no \"alerts\" array; expected Alertmanager's webhook payload");
      return -1;
   }
   this->receiver = member(j, root, "receiver", 256);
   this->status = member(j, root, "status", 32);
   this->groupKey = member(j, root, "groupKey", ALERTPAYLOAD_LABEL_MAX);
   this->externalUrl = member(j, root, "externalURL", ALERTPAYLOAD_URL_MAX);
   json_t* truncated = j->objectGet(root, "truncatedAlerts");
   this->truncatedAlerts = truncated && json_is_integer(truncated) ? (long)j->integerValue(truncated) : 0;
   size_t n = j->arraySize(alerts);
   this->alertCount = n < ALERTPAYLOAD_ALERTS_MAX ? n : ALERTPAYLOAD_ALERTS_MAX;
   this->alertsDropped = n - this->alertCount;
   this->alerts = Util_xcalloc(this->alertCount ? this->alertCount : 1, sizeof(Alert));
   for (size_t i = 0; i < this->alertCount; i++)
      parseAlert(j, j->arrayGet(alerts, i), &this->alerts[i]);
   return 0;
}

int AlertPayload_parse(AlertPayload* this, const char* data, size_t len, char* err, size_t errSize) {
   memset(this, 0, sizeof(*this));
   const JanssonApi* j = JanssonApi_get(err, errSize);
   if (!j)
      return -1;
   json_error_t jerr;
   json_t* root = j->loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
   if (!root) {
      Util_format(err, errSize, "not valid JSON at line %d, column %d; expected Alertmanager's webhook payload",
                  jerr.line, jerr.column);
      return -1;
   }
   int rc = parseRoot(this, j, root, err, errSize);
   j->del(root);
   if (rc < 0)
      AlertPayload_free(this);
   return rc;
}

static void freePairs(AlertPair* p, size_t n) {
   for (size_t i = 0; i < n; i++) {
      free(p[i].key);
      free(p[i].value);
   }
   free(p);
}

void AlertPayload_free(AlertPayload* this) {
   for (size_t i = 0; i < this->alertCount; i++) {
      Alert* a = &this->alerts[i];
      freePairs(a->labels, a->labelCount);
      freePairs(a->annotations, a->annotationCount);
      free(a->status);
      free(a->startsAt);
      free(a->endsAt);
      free(a->generatorUrl);
      free(a->fingerprint);
   }
   free(this->alerts);
   free(this->receiver);
   free(this->status);
   free(this->groupKey);
   free(this->externalUrl);
   memset(this, 0, sizeof(*this));
}

static const char* lookup(const AlertPair* p, size_t n, const char* name) {
   for (size_t i = 0; i < n; i++) {
      if (strcmp(p[i].key, name) == 0)
         return p[i].value;
   }
   return NULL;
}

const char* Alert_label(const Alert* alert, const char* name) {
   return lookup(alert->labels, alert->labelCount, name);
}

const char* Alert_annotation(const Alert* alert, const char* name) {
   return lookup(alert->annotations, alert->annotationCount, name);
}
