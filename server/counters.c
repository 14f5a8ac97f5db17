/* counters — request accounting for /stats, rendered with jansson. */
#include "counters.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void counters_begin(struct counters *c)
{
    c->in_flight++;
    if (c->in_flight > c->max_in_flight)
        c->max_in_flight = c->in_flight;
}

void counters_end(struct counters *c, int status)
{
    if (c->in_flight > 0)
        c->in_flight--;
    if (status >= COUNTERS_STATUS_MIN && status <= COUNTERS_STATUS_MAX) {
        c->by_status[status]++;
        c->total++;
    }
}

void counters_fault(struct counters *c, enum fate_fault f)
{
    if (f > FATE_FAULT_NONE && f < FATE_FAULTS)
        c->faults[f]++;
}

void counters_reset(struct counters *c)
{
    memset(c->by_status, 0, sizeof c->by_status);
    memset(c->faults, 0, sizeof c->faults);
    c->total = 0;
    c->max_in_flight = c->in_flight;
}

char *counters_json(const struct counters *c)
{
    json_t *requests = json_object();
    for (int s = COUNTERS_STATUS_MIN; requests && s <= COUNTERS_STATUS_MAX; s++) {
        if (!c->by_status[s])
            continue;
        char key[8];
        snprintf(key, sizeof key, "%d", s);
        json_object_set_new(requests, key, json_integer((json_int_t)c->by_status[s]));
    }
    json_t *faults = json_object();
    for (int f = FATE_FAULT_NONE + 1; faults && f < FATE_FAULTS; f++)
        json_object_set_new(faults, fate_fault_name((enum fate_fault)f),
                            json_integer((json_int_t)c->faults[f]));
    json_t *j = json_pack("{s:o, s:I, s:I, s:I, s:o}", "requests", requests, "total",
                          (json_int_t)c->total, "in_flight", (json_int_t)c->in_flight,
                          "max_in_flight", (json_int_t)c->max_in_flight, "faults", faults);
    char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return text;
}
