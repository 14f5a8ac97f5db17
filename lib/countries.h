/* countries — the code lists of the book: POP20, its 194 codes, AA–ZZ, letter expansion. */
#ifndef CONCBENCH_COUNTRIES_H
#define CONCBENCH_COUNTRIES_H

#include <stddef.h>

#define COUNTRIES_BOOK_COUNT 194
#define COUNTRIES_EVERY_COUNT (26 * 26)

/* The selection asked for on the command line. */
struct countries_query {
    int all;           /* -a: the book's 194 codes */
    int every;         /* -e: AA..ZZ */
    char *const *args; /* positional: codes ("br") or single letters ("B" = BA..BZ) */
    size_t n_args;
    size_t limit; /* -l: keep the first N after sorting; 0 = no limit */
};

/* Build the sorted, de-duplicated, upper-case code list. *codes is malloc'd (caller frees).
 * With no -a/-e/args the list is the book's POP20. Returns the count, or -EINVAL
 * with a message in err for a bad code ("bad country code 'b1'"), or -ENOMEM. */
long countries_select(const struct countries_query *q, char (**codes)[3], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The book's 20 most populous countries, in the book's order. */
extern const char *const countries_pop20[20];

/* The book's 194 codes, sorted. */
extern const char *const countries_book[COUNTRIES_BOOK_COUNT];

#endif
