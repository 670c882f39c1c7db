/* ioc_internal.h: private parts of the IOC store shared by ioc.c (store, native format, files),
 * ioc_loki.c (Loki/THOR lists) and namedb.c (vectorscan filename-regex database). */
#ifndef AB_IOC_INTERNAL_H
#define AB_IOC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "intel/ioc.h"
#include "intel/ipset.h"

/* Documented limits (docs/ioc-format.md). */
#define AB_IOC_MAX_LINE        ((size_t)64 << 10)  /* longer lines are malformed */
#define AB_IOC_MAX_TOTAL       ((size_t)10000000)  /* indicators per store */
#define AB_IOC_MAX_REGEX       ((size_t)100000)    /* filename regexes per store */
#define AB_IOC_MAX_PROTECTED   ((size_t)4096)      /* protected names per store */
#define AB_IOC_MAX_REGEX_LEN   ((size_t)4096)      /* bytes per regex (and per FP regex) */
#define AB_IOC_MAX_FILE        ((size_t)256 << 20) /* bytes per IOC file */
#define AB_IOC_MAX_DIR_FILES   ((size_t)100000)    /* entries considered in one folder */
#define AB_IOC_DEFAULT_SCORE   80
#define AB_IOC_LOKI_HASH_SCORE 100

/* Room for a normalised value: an IP can grow when rewritten ("::a:b" -> "::0.10.0.11"). */
#define AB_IOC_NORM_CAP (AB_IOC_MAX_LINE + 128)

/* A growable array of indicators. items is owned; the strings inside point into the arena. */
typedef struct ioc_vec {
    ab_ioc *items;
    size_t len;
    size_t cap;
} ioc_vec;

typedef struct ioc_arena_block ioc_arena_block;

/* A string index over one ioc_vec (iocobs.c): slots (hash << 32) | (item index + 1), 0 empty,
 * power-of-two capacity (mask + 1), at most half full. The key of an item is its value after
 * skip bytes. slot is owned (NULL when the index is empty). */
typedef struct ioc_strtab {
    uint64_t *slot;
    size_t mask;
    size_t skip;
} ioc_strtab;

/* Work handed to the vectorscan compiler by ab_iocs_compile, for tests that bound it without a
 * clock: each expression of each hs_compile / hs_compile_multi call adds its estimated cost
 * (namedb.c: its size with counted repeats unrolled, a character of a repeated group counting
 * REPEAT_GROUP_WEIGHT times), so a retry that compiles the same set again counts again. */
typedef struct ioc_re_work {
    unsigned long calls; /* hs_compile and hs_compile_multi calls */
    unsigned long cost;  /* estimated cost of the expressions of all those calls */
} ioc_re_work;

/* Invariants: every string of every ab_ioc lives in the arena (freed as a whole, so Loki
 * comment descriptions can be shared between many indicators); before compile the vectors are
 * in load order, after it the hex types are sorted and deduplicated and nothing changes. */
struct ab_iocs {
    ioc_vec by_type[AB_IOC_TYPE_COUNT];
    ioc_vec allow[3]; /* allow-list md5, sha1, sha256 (AB_IOC_MD5..AB_IOC_SHA256) */
    ioc_arena_block *arena;
    size_t total; /* indicators held, allow-list entries included */
    int compiled;
    hs_database_t *name_db; /* filename regexes; id = index in by_type[AB_IOC_FILENAME_RE] */
    hs_database_t *fp_db;   /* false-positive regexes; id = index of the owning indicator */
    ab_ipset *net;          /* ip and cidr: value i < len(ip) is ip[i], else cidr[i - len(ip)] */
    ioc_re_work re_work;    /* what building name_db and fp_db cost */
    ioc_strtab dom;         /* domain values without "*." (iocobs.c) */
    ioc_strtab dom_wild;    /* "*.x" domain values, keyed by x */
    ioc_strtab url;         /* url values (normalised by ab_url_normalize) */
    ioc_strtab email;       /* email values */
};

/* State of one ab_iocs_load_buffer call, handed to the per-format line parsers. */
typedef struct ioc_load {
    ab_iocs *s;
    const char *source; /* file name for diagnostics and ab_ioc.source */
    size_t lineno;
    int allow;
    ab_diag_fn diag;
    void *ctx;
    char *comment; /* Loki lists: text of the last "# comment" line (arena), or NULL */
    char *norm;    /* AB_IOC_NORM_CAP bytes of scratch for normalised values */
    char msg[256]; /* why the current line is malformed */
} ioc_load;

/* A line parser gets one line (NUL-terminated, no '\n', trailing '\r's removed, no NUL bytes,
 * at most AB_IOC_MAX_LINE bytes) it may modify. Returns AB_OK when the line was used or
 * skipped, AB_ERR_PARSE when it is malformed (ld->msg says why), anything else is fatal. */
typedef ab_status (*ioc_line_fn)(ioc_load *ld, char *line, size_t len);

ab_status ioc_parse_native(ioc_load *ld, char *line, size_t len);
ab_status ioc_parse_loki_hash(ioc_load *ld, char *line, size_t len);
ab_status ioc_parse_loki_filename(ioc_load *ld, char *line, size_t len);
ab_status ioc_parse_loki_c2(ioc_load *ld, char *line, size_t len);

/* Copy n bytes plus a NUL into the store's arena; NULL when out of memory. */
char *ioc_strndup(ab_iocs *s, const char *p, size_t n);
/* Like ioc_strndup, but NULL for an empty string too (absent optional field). Sets *nomem. */
char *ioc_optdup(ab_iocs *s, const char *p, size_t n, int *nomem);
/* Add an indicator whose strings are already in the arena (source is filled in here).
 * Checks the store limits; allow-list entries go to the allow vectors. */
ab_status ioc_add(ioc_load *ld, ab_ioc *ioc);
/* Set ld->msg and return AB_ERR_PARSE. */
ab_status ioc_bad(ioc_load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a non-fatal note about the current line through diag. */
void ioc_note(ioc_load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A printable, bounded excerpt of input for messages (out has outsz >= 8 bytes). */
const char *ioc_snip(const char *p, size_t n, char *out, size_t outsz);

/* Normalise and validate a value of type t (in: n bytes, no NUL inside). The result goes to out
 * (outcap >= n + 64) with its length in *outlen. Returns 0, or -1 with a reason in msg. */
int ioc_normalize(ab_ioc_type t, const char *in, size_t n, char *out, size_t outcap, size_t *outlen,
                  char *msg, size_t msgsz);
/* 1 when hex (lower-case) is the digest of the empty file for its length. */
int ioc_is_empty_file_hash(const char *hex, size_t n);
/* Parse a score field: 1-3 digits, value 0..100. Returns 0 or -1. */
int ioc_parse_score(const char *p, size_t n, int *score);
int ioc_all_digits(const char *p, size_t n);
/* Trim bytes of set from both ends of [*p, *p + *n). */
void ioc_trim(const char **p, size_t *n, const char *set);

/* iocobs.c: build (at compile) and free the observable indexes. */
ab_status ioc_obs_index(ab_iocs *s);
void ioc_obs_free(ab_iocs *s);

/* namedb.c */
ab_status ioc_names_compile(ab_iocs *s, ab_diag_fn diag, void *ctx);
void ioc_names_free(ab_iocs *s);

#endif
