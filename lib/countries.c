/* countries — the code lists of the book and the command line's selection of codes. */
#include "countries.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fluent Python's POP20_CC: the 20 most populous countries, in the book's order. */
const char *const countries_pop20[20] = {
    "CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP",
    "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD", "FR",
};

/* The book's country_codes.txt: 194 codes, sorted. */
const char *const countries_book[COUNTRIES_BOOK_COUNT] = {
    "AD", "AE", "AF", "AG", "AL", "AM", "AO", "AR", "AT", "AU", "AZ", "BA", "BB", "BD", "BE",
    "BF", "BG", "BH", "BI", "BJ", "BN", "BO", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CD",
    "CF", "CG", "CH", "CI", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CY", "CZ", "DE", "DJ",
    "DK", "DM", "DZ", "EC", "EE", "EG", "ER", "ES", "ET", "FI", "FJ", "FM", "FR", "GA", "GB",
    "GD", "GE", "GH", "GM", "GN", "GQ", "GR", "GT", "GW", "GY", "HN", "HR", "HT", "HU", "ID",
    "IE", "IL", "IN", "IQ", "IR", "IS", "IT", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM",
    "KN", "KP", "KR", "KW", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MG", "MH", "MK", "ML", "MM", "MN", "MR", "MT", "MU", "MV",
    "MW", "MX", "MY", "MZ", "NA", "NE", "NG", "NI", "NL", "NO", "NP", "NR", "NZ", "OM", "PA",
    "PE", "PG", "PH", "PK", "PL", "PT", "PW", "PY", "QA", "RO", "RS", "RU", "RW", "SA", "SB",
    "SC", "SD", "SE", "SG", "SI", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SY",
    "SZ", "TD", "TG", "TH", "TJ", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA",
    "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VN", "VU", "WS", "YE", "ZA", "ZM", "ZW",
};

/* Codes are kept as a 26x26 presence table: sorting and de-duplication for free. */
static void mark(unsigned char table[26][26], const char *cc)
{
    table[cc[0] - 'A'][cc[1] - 'A'] = 1;
}

long countries_select(const struct countries_query *q, char (**codes)[3], char *err, size_t errlen)
{
    unsigned char table[26][26] = {{0}};
    int any = q->all || q->every || q->n_args > 0;

    if (!any)
        for (size_t i = 0; i < 20; i++)
            mark(table, countries_pop20[i]);
    if (q->all)
        for (size_t i = 0; i < COUNTRIES_BOOK_COUNT; i++)
            mark(table, countries_book[i]);
    if (q->every)
        memset(table, 1, sizeof table);
    for (size_t i = 0; i < q->n_args; i++) {
        const char *a = q->args[i];
        size_t len = strlen(a);
        if ((len != 1 && len != 2) || !isalpha((unsigned char)a[0]) ||
            (len == 2 && !isalpha((unsigned char)a[1]))) {
            snprintf(err, errlen, "bad country code '%s' (want two letters, or one to expand)", a);
            return -EINVAL;
        }
        int c0 = toupper((unsigned char)a[0]) - 'A';
        if (len == 1) /* a single letter expands to its 26 codes, as in the book's flags2 */
            memset(table[c0], 1, 26);
        else
            table[c0][toupper((unsigned char)a[1]) - 'A'] = 1;
    }

    size_t n = 0;
    for (int i = 0; i < 26; i++)
        for (int j = 0; j < 26; j++)
            n += table[i][j];
    if (q->limit && n > q->limit)
        n = q->limit;
    char(*out)[3] = malloc((n ? n : 1) * sizeof *out);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    size_t k = 0;
    for (int i = 0; i < 26 && k < n; i++)
        for (int j = 0; j < 26 && k < n; j++)
            if (table[i][j]) {
                out[k][0] = (char)('A' + i);
                out[k][1] = (char)('A' + j);
                out[k][2] = '\0';
                k++;
            }
    *codes = out;
    return (long)n;
}
