/* fate — deterministic delays and failures per (seed, listener, code), via splitmix64. */
#include "fate.h"

#include <ctype.h>
#include <stdbool.h>

static const int error_statuses[] = {500, 502, 503};
#define N_ERROR_STATUSES (sizeof error_statuses / sizeof error_statuses[0])

static const char *const listener_names[FATE_LISTENERS] = {"LOCAL", "DELAY", "ERROR"};
static const char *const fault_names[FATE_FAULTS] = {"none", "reset", "truncate", "stall"};

/* Sebastiano Vigna's splitmix64 finaliser: every input bit flips about half the output
 * bits, so neighbouring codes ("ba", "bb") get unrelated fates. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* The key of a code on a listener, without its tag (the low 8 bits). */
static uint64_t code_key(enum fate_listener l, const char *cc)
{
    uint64_t a = (uint64_t)tolower((unsigned char)cc[0]);
    uint64_t b = (uint64_t)tolower((unsigned char)cc[1]);
    return (uint64_t)l << 32 | a << 16 | b << 8;
}

/* The key of a site page: the top bit set, which no code's key has, so the site's fates
 * are drawn apart from the flags' and adding it changed none of theirs. */
static uint64_t page_key(enum fate_listener l, uint32_t page)
{
    return 1ULL << 63 | (uint64_t)(page & 0x1fffffffu) << 34 | (uint64_t)l << 32;
}

static uint64_t keyed_hash(uint64_t seed, uint64_t key, enum fate_tag tag)
{
    /* The seed is mixed on its own first: seeds 0 and 1 must not just flip one key bit. */
    return splitmix64(splitmix64(seed) ^ (key | (uint64_t)tag));
}

uint64_t fate_hash(uint64_t seed, enum fate_listener l, const char *cc, enum fate_tag tag)
{
    return keyed_hash(seed, code_key(l, cc), tag);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double unit_interval(uint64_t h)
{
    return (double)(h >> 11) * 0x1p-53;
}

static unsigned draw_delay(const struct fate_config *c, uint64_t key)
{
    if (c->delay_max_ms <= c->delay_min_ms)
        return c->delay_min_ms;
    uint64_t span = (uint64_t)c->delay_max_ms - c->delay_min_ms + 1;
    /* The modulo bias is below span / 2^64: invisible at millisecond spans. */
    return c->delay_min_ms + (unsigned)(keyed_hash(c->seed, key, FATE_TAG_DELAY) % span);
}

static bool hits(const struct fate_config *c, uint64_t key, enum fate_tag tag, double rate)
{
    return rate > 0 && unit_interval(keyed_hash(c->seed, key, tag)) < rate;
}

static enum fate_fault draw_fault(const struct fate_config *c, uint64_t key)
{
    if (hits(c, key, FATE_TAG_RESET, c->reset_rate))
        return FATE_FAULT_RESET;
    if (hits(c, key, FATE_TAG_TRUNCATE, c->truncate_rate))
        return FATE_FAULT_TRUNCATE;
    if (hits(c, key, FATE_TAG_STALL, c->stall_rate))
        return FATE_FAULT_STALL;
    return FATE_FAULT_NONE;
}

/* fate_of's rules over one key (a code's or a page's on listener l). */
static struct fate fate_keyed(const struct fate_config *c, enum fate_listener l, uint64_t key,
                              bool faults)
{
    struct fate f = {.status = 200, .delay_ms = 0, .fault = FATE_FAULT_NONE};
    switch (l) {
    case FATE_DELAY: f.delay_ms = draw_delay(c, key); break;
    case FATE_ERROR:
        if (unit_interval(keyed_hash(c->seed, key, FATE_TAG_FAIL)) < c->error_rate) {
            uint64_t h = keyed_hash(c->seed, key, FATE_TAG_STATUS);
            f.status = error_statuses[h % N_ERROR_STATUSES];
        }
        if (keyed_hash(c->seed, key, FATE_TAG_HALF) & 1)
            f.delay_ms = draw_delay(c, key);
        if (f.status == 200 && faults)
            f.fault = draw_fault(c, key);
        break;
    default: break;
    }
    return f;
}

struct fate fate_of(const struct fate_config *c, enum fate_listener l, const char *cc)
{
    return fate_keyed(c, l, code_key(l, cc), true);
}

struct fate fate_of_page(const struct fate_config *c, enum fate_listener l, uint32_t page)
{
    return fate_keyed(c, l, page_key(l, page), false);
}

const char *fate_listener_name(enum fate_listener l)
{
    return (unsigned)l < FATE_LISTENERS ? listener_names[l] : "?";
}

const char *fate_fault_name(enum fate_fault f)
{
    return (unsigned)f < FATE_FAULTS ? fault_names[f] : "?";
}
