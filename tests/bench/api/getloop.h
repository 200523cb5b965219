/* husk api benchmark: the GET phase's epoll + GnuTLS client (getloop.c). */
#pragma once

/* CLIENTS keep-alive connections to URL GET PATH COUNT times in all. rate 0: each sends its
   next request when its last reply is complete (a closed loop: as fast as the server goes);
   rate > 0: RATE requests per second in all, each connection on a fixed schedule, latency
   counted from when a request was due. lat[i] is request i's latency in seconds, *cpu the
   client's own CPU time over the requests (handshakes excluded). Returns 0, or -1 (after a
   message on stderr) when a connection fails. */
int getloop_run (const char *url, const char *token, const char *path, int clients, long count,
                 double rate, double *lat, double *elapsed, double *cpu, long *errors);

/* TLS records the server used for one reply to GET PATH on a keep-alive connection (counted on
   the raw stream, after two warm-up GETs), or -1. */
long getloop_records (const char *url, const char *token, const char *path);

/* The same closed loop POSTing creates to PATH: request i's JSON body is FMT with i in place
   of its one "%ld", so that each names an object of its own. */
int getloop_create (const char *url, const char *token, const char *path, const char *fmt,
                    int clients, long count, double *lat, double *elapsed, double *cpu,
                    long *errors);
