/* fate — deterministic delays and failures per (seed, listener, code), via splitmix64. */
#include "fate.h"

#include <ctype.h>
#include <stdbool.h>

static const int error_statuses[] = { 500, 502, 503 };
#define N_ERROR_STATUSES (sizeof error_statuses / sizeof error_statuses[0])

static const char *const listener_names[FATE_LISTENERS] = { "LOCAL", "DELAY", "ERROR" };
static const char *const fault_names[FATE_FAULTS] = { "none", "reset", "truncate", "stall" };

/* Sebastiano Vigna's splitmix64 finaliser: every input bit flips about half the output
 * bits, so neighbouring codes ("ba", "bb") get unrelated fates. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t fate_hash(uint64_t seed, enum fate_listener l, const char *cc, enum fate_tag tag)
{
    uint64_t a = (uint64_t)tolower((unsigned char)cc[0]);
    uint64_t b = (uint64_t)tolower((unsigned char)cc[1]);
    uint64_t key = (uint64_t)l << 32 | a << 16 | b << 8 | (uint64_t)tag;
    /* The seed is mixed on its own first: seeds 0 and 1 must not just flip one key bit. */
    return splitmix64(splitmix64(seed) ^ key);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double unit_interval(uint64_t h)
{
    return (double)(h >> 11) * 0x1p-53;
}

static unsigned draw_delay(const struct fate_config *c, enum fate_listener l, const char *cc)
{
    if (c->delay_max_ms <= c->delay_min_ms)
        return c->delay_min_ms;
    uint64_t span = (uint64_t)c->delay_max_ms - c->delay_min_ms + 1;
    /* The modulo bias is below span / 2^64: invisible at millisecond spans. */
    return c->delay_min_ms + (unsigned)(fate_hash(c->seed, l, cc, FATE_TAG_DELAY) % span);
}

static bool hits(const struct fate_config *c, enum fate_listener l, const char *cc,
                 enum fate_tag tag, double rate)
{
    return rate > 0 && unit_interval(fate_hash(c->seed, l, cc, tag)) < rate;
}

static enum fate_fault draw_fault(const struct fate_config *c, enum fate_listener l,
                                  const char *cc)
{
    if (hits(c, l, cc, FATE_TAG_RESET, c->reset_rate))
        return FATE_FAULT_RESET;
    if (hits(c, l, cc, FATE_TAG_TRUNCATE, c->truncate_rate))
        return FATE_FAULT_TRUNCATE;
    if (hits(c, l, cc, FATE_TAG_STALL, c->stall_rate))
        return FATE_FAULT_STALL;
    return FATE_FAULT_NONE;
}

struct fate fate_of(const struct fate_config *c, enum fate_listener l, const char *cc)
{
    struct fate f = { .status = 200, .delay_ms = 0, .fault = FATE_FAULT_NONE };
    switch (l) {
    case FATE_DELAY:
        f.delay_ms = draw_delay(c, l, cc);
        break;
    case FATE_ERROR:
        if (unit_interval(fate_hash(c->seed, l, cc, FATE_TAG_FAIL)) < c->error_rate) {
            uint64_t h = fate_hash(c->seed, l, cc, FATE_TAG_STATUS);
            f.status = error_statuses[h % N_ERROR_STATUSES];
        }
        if (fate_hash(c->seed, l, cc, FATE_TAG_HALF) & 1)
            f.delay_ms = draw_delay(c, l, cc);
        if (f.status == 200)
            f.fault = draw_fault(c, l, cc);
        break;
    default:
        break;
    }
    return f;
}

const char *fate_listener_name(enum fate_listener l)
{
    return (unsigned)l < FATE_LISTENERS ? listener_names[l] : "?";
}

const char *fate_fault_name(enum fate_fault f)
{
    return (unsigned)f < FATE_FAULTS ? fault_names[f] : "?";
}
