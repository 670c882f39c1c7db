/* fuzz_ioc.c: feeds bytes to the IOC store in each format (the first byte picks the format, the
 * allow-list flag and strict mode), compiles, then exercises hash look-ups and path matching and
 * checks the store's invariants: normalised values, scores in range, sorted unique hashes, a
 * failed strict load leaves nothing behind, every reported regex is a filename regex; input lines
 * are also checked as lookalike names, and no protected name is a lookalike of another. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/ioc.h"
#include "intel/lookalike.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ioc: check failed at line %d: %s\n", __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_PATHS 64 /* input lines also tried as paths */

static void on_diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    CHECK(level == AB_DIAG_ERROR || level == AB_DIAG_WARNING);
    CHECK(where && msg);
    CHECK(strlen(msg) < 1024); /* one bounded line */
    CHECK(!strchr(msg, '\n'));
}

static int on_match(void *ctx, const ab_ioc *ioc)
{
    size_t *n = ctx;
    CHECK(ioc->type == AB_IOC_FILENAME_RE);
    CHECK(ioc->value && ioc->value[0]);
    (*n)++;
    return 0;
}

static void check_ioc(const ab_ioc *i, ab_ioc_type t)
{
    CHECK(i && i->type == t && i->value && i->source);
    CHECK(i->score >= 0 && i->score <= 100);
    size_t n = strlen(i->value);
    CHECK(n > 0);
    if (ab_ioc_hex_len(t)) {
        CHECK(n == ab_ioc_hex_len(t));
        CHECK(strspn(i->value, "0123456789abcdef") == n);
    }
    if (t == AB_IOC_PROTECTED_NAME) {
        CHECK(n >= AB_LOOKALIKE_MIN_HOMOGLYPH && n <= AB_LOOKALIKE_MAX_NAME);
        CHECK(!strchr(i->value, '/'));
    }
    if (t == AB_IOC_DOMAIN || t == AB_IOC_EMAIL || t == AB_IOC_IP || t == AB_IOC_CIDR ||
        t == AB_IOC_PROTECTED_NAME) {
        for (size_t k = 0; k < n; k++)
            CHECK(!(i->value[k] >= 'A' && i->value[k] <= 'Z'));
    }
    if (t != AB_IOC_FILENAME_RE)
        CHECK(i->fp_regex == NULL);
}

static void check_store(const ab_iocs *s, int compiled)
{
    size_t sum = 0;
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++) {
        size_t n = ab_iocs_count(s, (ab_ioc_type)t);
        sum += n;
        for (size_t i = 0; i < n; i++) {
            const ab_ioc *ioc = ab_iocs_get(s, (ab_ioc_type)t, i);
            check_ioc(ioc, (ab_ioc_type)t);
            if (!compiled || !ab_ioc_hex_len((ab_ioc_type)t))
                continue;
            CHECK(ab_iocs_find_hash(s, (ab_ioc_type)t, ioc->value) == ioc);
            if (i)
                CHECK(strcmp(ab_iocs_get(s, (ab_ioc_type)t, i - 1)->value, ioc->value) < 0);
        }
        CHECK(ab_iocs_get(s, (ab_ioc_type)t, n) == NULL);
    }
    CHECK(sum <= ab_iocs_total(s)); /* the rest are allow-list entries */
}

static void match_paths(const ab_iocs *s, const uint8_t *data, size_t size)
{
    ab_name_scratch *sc = NULL;
    CHECK(ab_name_scratch_new(s, &sc) == AB_OK);
    size_t hits = 0;
    static const char *const fixed[] = {"/", "/tmp/x", "/Windows/System32/evil.exe", ""};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        CHECK(ab_iocs_match_path(s, sc, fixed[i], strlen(fixed[i]), on_match, &hits) == AB_OK);
    /* Input lines as paths: they are what the regexes were written to match. */
    size_t pos = 0;
    for (int k = 0; k < MAX_PATHS && pos < size; k++) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size;
        CHECK(ab_iocs_match_path(s, sc, (const char *)data + pos, end - pos, on_match, &hits) ==
              AB_OK);
        pos = end + 1;
    }
    size_t n = ab_iocs_count(s, AB_IOC_FILENAME_RE);
    for (size_t i = 0; i < n && i < MAX_PATHS; i++) {
        const char *v = ab_iocs_get(s, AB_IOC_FILENAME_RE, i)->value;
        CHECK(ab_iocs_match_path(s, sc, v, strlen(v), on_match, &hits) == AB_OK);
    }
    ab_name_scratch_free(sc);
}

static void check_hit(const ab_lookalike *l, const char *name, size_t len, int process)
{
    ab_lookalike_hit hit;
    if (!ab_lookalike_check(l, name, len, process, &hit))
        return;
    CHECK(hit.name && hit.source && hit.description);
    CHECK(hit.score >= 0 && hit.score <= 100);
    CHECK(hit.kind >= AB_LOOKALIKE_HOMOGLYPH && hit.kind <= AB_LOOKALIKE_EDIT_HOMOGLYPH);
}

static void lookalikes(const ab_iocs *s, const uint8_t *data, size_t size)
{
    ab_lookalike *l = NULL;
    CHECK(ab_lookalike_new(s, &l) == AB_OK);
    size_t pos = 0;
    for (int k = 0; k < MAX_PATHS && pos < size; k++) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size;
        check_hit(l, (const char *)data + pos, end - pos, 0);
        check_hit(l, (const char *)data + pos, end - pos, 1);
        pos = end + 1;
    }
    ab_lookalike_hit hit;
    size_t n = ab_iocs_count(s, AB_IOC_PROTECTED_NAME);
    for (size_t i = 0; i < n && i < MAX_PATHS; i++) {
        const char *v = ab_iocs_get(s, AB_IOC_PROTECTED_NAME, i)->value;
        CHECK(!ab_lookalike_check(l, v, strlen(v), 0, &hit)); /* a real name */
    }
    ab_lookalike_free(l);
}

static void lookups(const ab_iocs *s, const uint8_t *data, size_t size)
{
    char hex[65];
    size_t n = size < 64 ? size : 64;
    for (size_t i = 0; i < n; i++)
        hex[i] = "0123456789abcdef"[data[i] & 15];
    hex[n] = '\0';
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++)
        (void)ab_iocs_find_hash(s, (ab_ioc_type)t, hex);
    (void)ab_iocs_allowed(s, n == 32 ? hex : NULL, n == 40 ? hex : NULL, n == 64 ? hex : NULL);
    (void)ab_iocs_has_hashes(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    ab_ioc_format fmt = (ab_ioc_format)(AB_IOC_FMT_NATIVE + (ctl & 3));
    int allow = (ctl >> 2) & 1;
    int strict = (ctl >> 3) & 1;
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    ab_iocs *s = NULL;
    CHECK(ab_iocs_new(&s) == AB_OK);
    size_t bad = 0;
    ab_status st = ab_iocs_load_buffer(s, (const char *)body, len, fmt, "fuzz.txt", allow, strict,
                                       on_diag, NULL, &bad);
    CHECK(st == AB_OK || st == AB_ERR_PARSE);
    if (st == AB_ERR_PARSE) {
        CHECK(strict && bad == 1);
        CHECK(ab_iocs_total(s) == 0); /* rolled back */
    }
    if (!strict)
        CHECK(st == AB_OK);
    check_store(s, 0);

    st = ab_iocs_compile(s, on_diag, NULL);
    CHECK(st == AB_OK || st == AB_ERR_LIMIT);
    if (st == AB_OK) {
        check_store(s, 1);
        lookups(s, body, len);
        match_paths(s, body, len);
        lookalikes(s, body, len);
    }
    ab_iocs_free(s);
    return 0;
}
