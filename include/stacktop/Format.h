#ifndef STACKTOP_FORMAT_H
#define STACKTOP_FORMAT_H
/* Human-readable numbers shared by every front end. */
#include <stddef.h>

/* KiB as at most 6 characters: "812K", "23.4M", "1.20G", "3.0T". */
void Format_kib(char* buf, size_t size, unsigned long long kib);
/* Magnitude class of a KiB value for colouring: 0 = K, 1 = M, 2 = G, 3 = T. */
int Format_kibMagnitude(unsigned long long kib);
/* CPU time as top's TIME+: "M:SS.hh", or "HHHh:MM" past 100 hours. */
void Format_cpuTime(char* buf, size_t size, double seconds);
/* Uptime as "3 days, 04:05:06" / "04:05:06". */
void Format_uptime(char* buf, size_t size, double seconds);
/* A signed KiB/min rate: "+1.2M", "-300K", "0". */
void Format_rate(char* buf, size_t size, double kibPerMin);

#endif
