/* lookalike_domain.h: host names that imitate a protected domain (the "lookalike-domain" mail
 * signal, docs/mail-signals.md). A guard is built from the protected domains (A-labels, as
 * ab_domain_normalize gives them) and answers, for any host, whether it imitates one of them and
 * how: a homoglyph (same Unicode TS #39 confusable skeleton), a typo (edit distance), added words,
 * the protected domain embedded in the labels of another domain, or the same name under another
 * public suffix. The protected domains themselves and their subdomains never match.
 *
 * Safety: hosts are hostile input. Hosts over 253 bytes, with bytes that are not in a host name,
 * with invalid UTF-8, or whose forms outgrow fixed buffers are not checked (0). No allocation per
 * check beyond libidn2's decoding of xn-- labels (freed at once). Cost per host: O(protected
 * domains x host length). ICU objects are opened by ab_domain_guard_new: create the guard in the
 * process that uses it (after fork, on first use); it is read-only afterwards. */
#ifndef AB_LOOKALIKE_DOMAIN_H
#define AB_LOOKALIKE_DOMAIN_H

#include <stddef.h>

#include "antibody/antibody.h"

#define AB_DOMAIN_GUARD_MAX 1024 /* protected domains in one guard */
#define AB_DOMAIN_MIN_LABEL                                                                        \
    5                           /* code points: shorter protected labels get homoglyph checks only \
                                 */
#define AB_DOMAIN_LONG_LABEL 10 /* code points: from here two edits are a typo, below one */

/* Scores (docs/mail-signals.md). */
#define AB_DOMAIN_SCORE_HOMOGLYPH 80
#define AB_DOMAIN_SCORE_EMBEDDED                                                                   \
    75 /* added-words: the protected domain inside another's labels                                \
        */
#define AB_DOMAIN_SCORE_EDIT     70
#define AB_DOMAIN_SCORE_ADDED    60 /* added-words: words or hyphens added to the label */
#define AB_DOMAIN_SCORE_TLD_SWAP 50

typedef struct ab_domain_guard ab_domain_guard;

typedef struct ab_domain_hit {
    const char
        *kind; /* static token: "idn-homoglyph", "edit-distance", "added-words", "tld-swap" */
    int score;
    const char *protected_domain; /* the registered domain imitated, Unicode; the guard's */
    char reason[1536];            /* "<host> (<decoded>) is a homoglyph of <protected>" */
} ab_domain_hit;

/* The canonical form of a protected domain: lower-case IDNA A-labels without a trailing dot
 * ("Our-University.AC.UK." -> "our-university.ac.uk", "münchen.de" -> "xn--mnchen-3ya.de") into
 * out (cap bytes). AB_ERR_ARG when it is not a domain name (letters, digits and hyphens, labels
 * of 1..63 bytes, no hyphen at either end, xn-- labels that decode), is an IP address, or has no
 * registered domain (a public suffix such as "ac.uk", a single label). */
ab_status ab_domain_normalize(const char *domain, char *out, size_t cap);

/* A guard over n (<= AB_DOMAIN_GUARD_MAX) protected domains as ab_domain_normalize gives them
 * (copied). A protected subdomain protects its registered domain. AB_ERR_ARG for a domain that
 * does not normalise, AB_ERR_NOMEM, AB_ERR_INTERNAL when ICU cannot open its spoof checker. */
ab_status ab_domain_guard_new(const char *const *domains, size_t n, ab_domain_guard **out);
void ab_domain_guard_free(ab_domain_guard *g);

/* 1 and *hit filled when host (len bytes: ASCII, xn-- A-labels or UTF-8, any case, one trailing
 * dot allowed) imitates a protected domain; the strongest kind over all protected domains wins. */
int ab_domain_guard_check(const ab_domain_guard *g, const char *host, size_t len,
                          ab_domain_hit *hit);

#endif
