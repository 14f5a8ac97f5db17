/* fate — what flagd does with each code on each listener: a pure function of the seed. */
#ifndef FLAGD_FATE_H
#define FLAGD_FATE_H

#include <stdint.h>

/* The three listeners, in port order (LOCAL on --port, DELAY on +1, ERROR on +2). The
 * numbers are part of the hash: renumbering them changes every plan. */
enum fate_listener { FATE_LOCAL = 0, FATE_DELAY = 1, FATE_ERROR = 2, FATE_LISTENERS };

#define FATE_DEFAULT_ERROR_RATE 0.25 /* the book's ERROR server: about a quarter fail */
#define FATE_DEFAULT_DELAY_MS 100
#define FATE_MAX_DELAY_MS 600000 /* ten minutes: anything longer is a typo */

struct fate_config {
    uint64_t seed;         /* --seed */
    double error_rate;     /* --error-rate, 0..1: chance that a code fails on ERROR */
    unsigned delay_min_ms; /* --delay MIN-MAX (MIN = MAX for --delay MS) */
    unsigned delay_max_ms;
    double reset_rate;    /* --reset-rate, 0..1: chance of a connection reset on ERROR */
    double truncate_rate; /* --truncate-rate: chance of half a body, then close */
    double stall_rate;    /* --stall-rate: chance of half a body, then silence */
};

/* Transport faults, on the ERROR listener only, among the codes that answer 200. */
enum fate_fault {
    FATE_FAULT_NONE = 0,
    FATE_FAULT_RESET,    /* no answer: the connection is reset (TCP RST) */
    FATE_FAULT_TRUNCATE, /* 200, the full Content-Length, half the body, then close */
    FATE_FAULT_STALL,    /* 200, the full Content-Length, half the body, then nothing
                               until the idle timeout closes the connection */
    FATE_FAULTS
};

struct fate {
    int status;            /* 200 (serve the file), or 500, 502, 503 on ERROR */
    unsigned delay_ms;     /* how long the answer waits; 0 = at once */
    enum fate_fault fault; /* FATE_FAULT_NONE unless a fault rate is set */
};

/* The fate of code cc (two ASCII letters, either case: "br" and "BR" are one code) on
 * listener l. Depends on c, l and cc only — never on time or request order — so every
 * client, every run and every process linking this file sees the same server.
 * LOCAL: 200 at once. DELAY: 200 after a delay drawn uniformly from [min, max].
 * ERROR: the code fails with probability error_rate (500, 502 or 503 equally likely);
 * independently, half of the codes are answered after such a delay, the rest at once.
 * A code that does not fail draws its fault, each with its own rate and hash, the first
 * that hits winning: reset, truncate, stall. All rates 0 (the default) leave no fault, and
 * adding a fault rate changes no status and no delay. */
struct fate fate_of(const struct fate_config *c, enum fate_listener l, const char *cc);

/* The fate of page `page` of flagd's site (site.h) on listener l, by fate_of's rules over
 * hashes of the page's own: its status (a share error_rate of pages fail on ERROR) and its
 * delay. The site has no transport faults: fault is always FATE_FAULT_NONE. */
struct fate fate_of_page(const struct fate_config *c, enum fate_listener l, uint32_t page);

/* The 64-bit hash behind fate_of(), for one purpose (tag) of one code on one listener:
 * splitmix64 over the seed, then over the packed (listener, letters, tag). Exposed for tests. */
enum fate_tag {
    FATE_TAG_FAIL = 1,
    FATE_TAG_STATUS = 2,
    FATE_TAG_HALF = 3,
    FATE_TAG_DELAY = 4,
    FATE_TAG_RESET = 5,
    FATE_TAG_TRUNCATE = 6,
    FATE_TAG_STALL = 7
};
uint64_t fate_hash(uint64_t seed, enum fate_listener l, const char *cc, enum fate_tag tag);

/* "LOCAL", "DELAY", "ERROR". */
const char *fate_listener_name(enum fate_listener l);

/* "none", "reset", "truncate", "stall". */
const char *fate_fault_name(enum fate_fault f);

#endif
