#ifndef STACKTOP_LISTENERS_H
#define STACKTOP_LISTENERS_H
/* The HTTP side of `stacktop watch`: GET /metrics on metrics_listen (the
 * Exporter's last exposition, optionally behind metrics_token_file) and POST
 * /alertmanager on alert_listen (AlertReceiver, behind alert_token_file),
 * one HttpServer per address (both routes on one when the addresses are
 * the same), HTTPS with tls_cert_file/tls_key_file. Driven by the watcher's
 * loop: it polls Listeners_pollFds and calls Listeners_run. A reload
 * restarts only a listener whose settings changed. */
#include <poll.h>
#include <stddef.h>

#include "stacktop/AlertReceiver.h"
#include "stacktop/Exporter.h"
#include "stacktop/WatchConfig.h"

#define LISTENERS_MAX 2
/* Largest Alertmanager notification accepted (max_alerts bounds it on the sender's side). */
#define LISTENERS_ALERT_BODY_MAX (1u << 20)

typedef struct Listeners_ Listeners;

Listeners* Listeners_new(void);
void Listeners_free(Listeners* this);
/* Starts (or keeps, or stops) the listeners config asks for. config,
 * exporter (NULL: metrics off) and target must outlive the listeners (the
 * watcher keeps them at fixed addresses across reloads). Returns 0, or -1
 * with a message when one could not start (it is then off). */
int Listeners_configure(Listeners* this, const WatchConfig* config, const Exporter* exporter, const AlertTarget* target,
                        char* err, size_t errSize);
/* The fds to poll for POLLIN; returns how many were written (at most max). */
size_t Listeners_pollFds(const Listeners* this, struct pollfd* out, size_t max);
/* When the listeners must run even without activity (monotonic), 0 if never. */
double Listeners_nextWake(const Listeners* this);
/* Serves what is ready; never blocks. */
void Listeners_run(Listeners* this);
/* For Dispatch_onChild: a background job closes every socket of the listeners. */
void Listeners_closeInChild(void* listeners);

#endif
