#ifndef STACKTOP_MAIL_H
#define STACKTOP_MAIL_H
/* One mail: a MIME message (text body plus an optional base64 attachment)
 * built in memory with CRLF line ends and no line longer than RFC 5322's 78
 * characters (headers folded, long or non-ASCII subjects as RFC 2047 encoded
 * words, the body quoted-printable), and its delivery over SMTP through
 * libcurl (smtp://, smtps://, STARTTLS when required, optional login) in one
 * transaction, with a result per recipient: a refused recipient does not stop
 * the others. */
#include <stdbool.h>
#include <stddef.h>

typedef struct MailMessage_ {
   const char* from;
   const char* const* to;
   size_t toCount;
   const char* subject;        /* UTF-8 */
   const char* body;           /* UTF-8 text, LF line ends, any line length */
   const char* attachmentName; /* NULL: no attachment */
   const char* attachmentType; /* e.g. "application/gzip" */
   const unsigned char* attachment;
   size_t attachmentLen;
   double date;           /* epoch seconds for the Date header */
   const char* boundary;  /* must not occur in the body: e.g. from the Message-ID */
   const char* messageId; /* "<...@host>" or NULL */
} MailMessage;

/* Base64 in lines of 76 characters, each ended by CRLF. Caller frees. */
char* Mail_base64(const unsigned char* data, size_t len, size_t* outLen);
/* Quoted-printable (RFC 2045) of LF-separated text: CRLF line ends, lines
 * of at most 76 characters (soft breaks). Caller frees. */
char* Mail_quotedPrintable(const char* text, size_t* outLen);
/* The whole message, CRLF line ends. Caller frees. */
char* Mail_build(const MailMessage* m, size_t* len);

typedef struct MailServer_ {
   const char* url;  /* smtp://host:port or smtps://host:port */
   const char* user; /* NULL: no login */
   const char* password;
   bool tlsRequired; /* STARTTLS or fail */
   double timeoutS;  /* the whole transaction */
} MailServer;

/* What became of the message for one recipient. */
typedef struct MailOutcome_ {
   bool sent;
   int code; /* the SMTP reply that refused it; 0: no reply (no connection, timeout) */
   char reason[256];
} MailOutcome;

/* Whether a refusal is for good (5xx): retrying the same mail cannot help
 * unless someone changes the server or the address. */
bool Mail_isPermanent(const MailOutcome* outcome);

/* Delivers a built message. outcomes[i] tells what happened for to[i].
 * Returns how many recipients it went to. */
size_t Mail_send(const MailServer* server, const char* from, const char* const* to, size_t toCount, const char* message,
                 size_t len, MailOutcome* outcomes);

#endif
