/* url.h: URLs as the observable matcher and the mail source see them. Normalisation makes two
 * spellings of one resource compare equal (RFC 3986 section 6 plus what browsers do: WHATWG
 * host parsing of IPv4 numbers, '\' as '/' in http(s)/ftp, tabs and newlines removed); the
 * extractor finds URLs, and defanged URLs and domains, in plain text such as a mail body.
 *
 * Safety: every function reads exactly len bytes (NULs are ordinary bytes), writes at most cap
 * bytes, allocates nothing (idn2 allocates and frees inside), and runs in time linear in len. */
#ifndef AB_URL_H
#define AB_URL_H

#include <stddef.h>

#define AB_URL_MAX       8192 /* bytes of a URL ab_url_normalize accepts (after trimming) */
#define AB_URL_NORM_CAP  (3 * AB_URL_MAX + 64) /* out room that always suffices for it */
#define AB_URL_TEXT_MAX  2048 /* bytes of one URL reported by ab_url_extract_text */
#define AB_URL_TEXT_URLS 1000 /* values reported per ab_url_extract_text call */

/* Normalise a "scheme://authority[path][?query][#fragment]" URL into out (cap bytes,
 * NUL-terminated): surrounding whitespace trimmed, TAB/CR/LF removed anywhere; scheme and host
 * lower-cased; userinfo dropped; the host as ab_host_normalize makes it; the default port (:80
 * http, :443 https, :21 ftp) and an empty port dropped, others without leading zeros; in path
 * and query, escapes of unreserved characters decoded, other escapes in upper-case hex, spaces,
 * controls, non-ASCII bytes and "<>^`{|} percent-encoded; dot segments removed from the path
 * (RFC 3986 5.2.4); an empty path is "/"; the fragment dropped. For http, https and ftp a '\' is
 * a '/'. Returns the length, or 0 (out "") when in is not such a URL, is longer than AB_URL_MAX
 * once trimmed, or the result does not fit. */
size_t ab_url_normalize(const char *in, size_t len, char *out, size_t cap);

/* The host of a URL (raw or normalised): after "scheme://" and any userinfo, without the port;
 * an IPv6 literal without its brackets. Points into url. Returns 1, or 0 when there is none. */
int ab_url_host(const char *url, size_t len, const char **host, size_t *hlen);

/* Normalise a host name into out (cap bytes, NUL-terminated): percent-escapes decoded (except
 * of characters a host cannot hold), ASCII lower-cased, trailing dots removed, a UTF-8 name
 * turned into IDNA A-labels (libidn2, UTS #46 non-transitional; kept as lower-cased bytes when
 * that fails), an IPv4 address in any WHATWG form (decimal 2130706433, hex 0x7f.1, octal 0177)
 * as a dotted quad, an IPv6 literal in its RFC 5952 form (with the brackets it came with; a
 * bracketed host that is not an IPv6 address gives 0).
 * Hosts over 1024 bytes (before or after normalising) are refused. Returns the length, or 0. */
size_t ab_host_normalize(const char *in, size_t len, char *out, size_t cap);

/* One value found in text: type "url" (value refanged, "www." hosts given "http://"),
 * "domain" (a defanged bare domain such as "evil[.]example", refanged) or "ip" (a defanged
 * bare IPv4 address "10.0.0[.]1"). defanged is 1 when the text spelt it defanged. value holds
 * len bytes plus a NUL and is valid during the call. Return non-zero to stop. */
typedef int (*ab_url_found_fn)(void *ctx, const char *type, const char *value, size_t len,
                               int defanged);

/* Find URLs in plain text: http://, https://, ftp:// and www. at a word start, and their
 * defanged spellings (hxxp, hXXp, h**p, hxxps, fxp; [.] (.) {.} [dot] (dot) for dots; [:] (:)
 * [://] for the separator; blanks after "://"); bare domains only when defanged. A URL ends at
 * whitespace (Unicode spaces and curly quotes included), a control byte, '<', '>', '"' or '`';
 * trailing .,;:!? and unbalanced ) ] } ' are not part of it. A URL right after '<' (RFC 3986
 * appendix C) runs to the '>' with blanks inside removed. At most AB_URL_TEXT_URLS values per
 * call, each cut to AB_URL_TEXT_MAX bytes. Returns non-zero when cb asked to stop. */
int ab_url_extract_text(const char *text, size_t len, ab_url_found_fn cb, void *ctx);

#endif
