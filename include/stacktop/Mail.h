#ifndef STACKTOP_MAIL_H
#define STACKTOP_MAIL_H
/* One mail: a MIME message (text body plus an optional base64 attachment)
 * built in memory with CRLF line ends, and its delivery over SMTP through
 * libcurl (smtp://, smtps://, STARTTLS when required, optional login). */
#include <stdbool.h>
#include <stddef.h>

typedef struct MailMessage_ {
   const char* from;
   const char* const* to;
   size_t toCount;
   const char* subject;        /* UTF-8; encoded as RFC 2047 when not ASCII */
   const char* body;           /* UTF-8 text, LF line ends */
   const char* attachmentName; /* NULL: no attachment */
   const char* attachmentType; /* e.g. "application/gzip" */
   const unsigned char* attachment;
   size_t attachmentLen;
   double date;           /* epoch seconds for the Date header */
   const char* boundary;  /* must not occur in the body: e.g. from time and pid */
   const char* messageId; /* "<...@host>" or NULL */
} MailMessage;

/* Base64 in lines of 76 characters, each ended by CRLF. Caller frees. */
char* Mail_base64(const unsigned char* data, size_t len, size_t* outLen);
/* The whole message, CRLF line ends. Caller frees. */
char* Mail_build(const MailMessage* m, size_t* len);

typedef struct MailServer_ {
   const char* url;  /* smtp://host:port or smtps://host:port */
   const char* user; /* NULL: no login */
   const char* password;
   bool tlsRequired; /* STARTTLS or fail */
   double timeoutS;  /* whole transfer */
} MailServer;

/* Delivers a built message to every recipient. Returns 0, or -1 with the
 * server's or libcurl's reason in err. */
int Mail_send(const MailServer* server, const char* from, const char* const* to, size_t toCount, const char* message,
              size_t len, char* err, size_t errSize);

#endif
