/* ioc.h: the IOC store: indicators loaded from our text format and Loki/THOR lists, with the
 * compiled lookups the matchers use (sorted hash tables, one vectorscan database of filename
 * regexes). Network/mail types are stored for the matchers that will use them. */
#ifndef AB_IOC_H
#define AB_IOC_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "intel/ipset.h"

typedef enum ab_ioc_type {
    AB_IOC_MD5 = 0,
    AB_IOC_SHA1,
    AB_IOC_SHA256,
    AB_IOC_FILENAME_RE,
    AB_IOC_PROTECTED_NAME, /* a name whose lookalikes are reported (intel/lookalike.h) */
    AB_IOC_IP, /* from here on: network and mail types (ab_scanner_ioc_count_unmatched) */
    AB_IOC_CIDR,
    AB_IOC_DOMAIN,
    AB_IOC_URL,
    AB_IOC_EMAIL,
    AB_IOC_JA3,
    AB_IOC_JA3S,
    AB_IOC_CERT_SHA1,
    AB_IOC_CERT_SHA256,
    AB_IOC_JA4, /* FoxIO JA4 TLS client fingerprint, "t13d1516h2_8daaf6152771_b186095e22b6" */
    AB_IOC_TYPE_COUNT
} ab_ioc_type;

/* Type token as written in our format ("md5", "filename-regex", "cert-sha256", ...). */
const char *ab_ioc_type_name(ab_ioc_type t);
/* Hex digits of a hash-like type's value (md5/ja3/ja3s 32, sha1/cert-sha1 40, sha256/cert-sha256
 * 64), 0 for the other types. */
size_t ab_ioc_hex_len(ab_ioc_type t);
/* Inverse of ab_ioc_type_name; -1 when unknown. */
int ab_ioc_type_from_name(const char *name, size_t len);

/* One indicator. All strings are owned by the store; NULL when absent. */
typedef struct ab_ioc {
    ab_ioc_type type;
    char *value;       /* normalised: hex lower-cased, domains lower-case A-labels, URLs by
                          ab_url_normalize, regex as compiled */
    char *description; /* may be NULL */
    char *reference;   /* may be NULL */
    char *family;      /* malware family, may be NULL */
    char *fp_regex;    /* filename-regex only: false-positive regex, may be NULL */
    char *source;      /* "file:line" it came from */
    int score;         /* 0..100 */
    int allow;         /* 1: allow-list entry (Loki "falsepositive" hash lists) */
} ab_ioc;

typedef enum ab_ioc_format {
    AB_IOC_FMT_AUTO = 0,      /* from the file name, see ab_ioc_format_for_name */
    AB_IOC_FMT_NATIVE,        /* docs/ioc-format.md */
    AB_IOC_FMT_LOKI_HASH,     /* HASH;DESC or HASH;SCORE;DESC */
    AB_IOC_FMT_LOKI_FILENAME, /* REGEX;SCORE[;FP_REGEX] with # comments as descriptions */
    AB_IOC_FMT_LOKI_C2,       /* IOC[;SCORE] with # comments as descriptions */
} ab_ioc_format;

typedef struct ab_iocs ab_iocs;

ab_status ab_iocs_new(ab_iocs **out);
void ab_iocs_free(ab_iocs *s);

/* Format for a file name (base name): names containing "hash", "filename" or "c2" (any case)
 * and not ending in ".ioc" are Loki lists; "hash"+"falsepositive" sets *allow. Else NATIVE.
 * Returns AB_IOC_FMT_AUTO when a folder walk should ignore the file (not .ioc and no keyword). */
ab_ioc_format ab_ioc_format_for_name(const char *basename, int *allow, int in_folder);

/* Parse a buffer (need not be NUL-terminated). source_name names the file in diagnostics and
 * in ab_ioc.source. A malformed line is reported through diag as ("file:line", message) and
 * skipped; with strict the first one makes the call fail with AB_ERR_PARSE. *bad_lines (may be
 * NULL) receives the count of malformed lines. Limits: lines over 64 KiB are malformed; the store
 * holds at most 10 million indicators (AB_ERR_LIMIT). */
ab_status ab_iocs_load_buffer(ab_iocs *s, const char *data, size_t len, ab_ioc_format fmt,
                              const char *source_name, int allow, int strict, ab_diag_fn diag,
                              void *ctx, size_t *bad_lines);

/* A file, or a folder (not recursive; files chosen by ab_ioc_format_for_name). Files over
 * 256 MiB are refused. */
ab_status ab_iocs_load_path(ab_iocs *s, const char *path, int strict, ab_diag_fn diag, void *ctx);

/* Freeze: sort/dedupe hashes, compile filename regexes into one vectorscan database (and one for
 * the false-positive regexes), index ip and cidr values (ipset.h; of equal prefixes the first
 * loaded is matched, an ip before a cidr /32), index domain, url and email values (hash sets;
 * of equal values the first loaded is matched). A regex vectorscan cannot compile is reported
 * through diag and dropped. After this the store is read-only and safe to share across forked
 * workers. */
ab_status ab_iocs_compile(ab_iocs *s, ab_diag_fn diag, void *ctx);

size_t ab_iocs_count(const ab_iocs *s, ab_ioc_type t); /* excluding allow-list entries */
size_t ab_iocs_total(const ab_iocs *s);
int ab_iocs_has_hashes(const ab_iocs *s); /* any md5/sha1/sha256 IOC or allow-list entry */
const ab_ioc *ab_iocs_get(const ab_iocs *s, ab_ioc_type t, size_t i);

/* Hash look-up (after compile): hex is lower-case hex of the right length. NULL when absent. */
const ab_ioc *ab_iocs_find_hash(const ab_iocs *s, ab_ioc_type t, const char *hex);
/* The indicator of type t (a sorted exact type: the hex types and ja4) whose value is key
 * (len bytes, compared without case), or NULL. */
const ab_ioc *ab_iocs_find_exact(const ab_iocs *s, ab_ioc_type t, const char *key, size_t len);
/* 1 when any of the given hashes (each may be NULL) is on an allow-list. */
int ab_iocs_allowed(const ab_iocs *s, const char *md5, const char *sha1, const char *sha256);

/* Network look-up (after compile): the ip IOC equal to a, else the most specific cidr IOC
 * covering it (see ipset.h: IPv4 and IPv4-mapped IPv6 are one address). NULL when none. */
const ab_ioc *ab_iocs_match_ip(const ab_iocs *s, const ab_ipaddr *a);

/* Observable look-ups (after compile; match/observables.h walks parent domains with them): the
 * domain IOC equal to key (lower-case A-labels, no trailing dot, not a wildcard), the url IOC
 * equal to a URL normalised by ab_url_normalize (match/url.h), the email IOC equal to a
 * lower-cased address; t is AB_IOC_DOMAIN, AB_IOC_URL or AB_IOC_EMAIL. O(len). NULL when none. */
const ab_ioc *ab_iocs_find_value(const ab_iocs *s, ab_ioc_type t, const char *key, size_t len);
/* The wildcard domain IOC "*.name" (it matches hosts strictly below name). NULL when none. */
const ab_ioc *ab_iocs_find_wildcard(const ab_iocs *s, const char *name, size_t len);

/* Filename-regex matching against a full path. Scratch space is per process/thread (vectorscan
 * scratch): create it after fork. */
typedef struct ab_name_scratch ab_name_scratch;
ab_status ab_name_scratch_new(const ab_iocs *s, ab_name_scratch **out);
void ab_name_scratch_free(ab_name_scratch *sc);
/* Calls fn once per matching filename-regex IOC whose false-positive regex (if any) does not
 * match; fn returning non-zero stops. No-op when the store has no filename regexes. */
typedef int (*ab_ioc_match_fn)(void *ctx, const ab_ioc *ioc);
ab_status ab_iocs_match_path(const ab_iocs *s, ab_name_scratch *sc, const char *path, size_t len,
                             ab_ioc_match_fn fn, void *ctx);

#endif
