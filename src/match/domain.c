/* domain.c: registered domains through libpsl's built-in public suffix list (domain.h). The
 * built-in list is compiled into libpsl: psl_builtin() reads no file and allocates nothing, so it
 * is safe in workers and shared read-only after fork. */
#include "match/domain.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <string.h>

#define IDN_MAX 1024 /* bytes of a name handed to libidn2 */

size_t ab_domain_lower(const char *host, size_t len, char *out)
{
    while (len && host[len - 1] == '.')
        len--;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return len;
}

int ab_host_is_ip(const char *host, size_t len)
{
    char buf[64];
    unsigned char addr[16];
    if (len && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (!len || len >= sizeof(buf))
        return 0;
    memcpy(buf, host, len);
    buf[len] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

size_t ab_registered_domain(const char *host, size_t len, char *out, size_t cap)
{
    char buf[AB_MAX_DOMAIN + 1];
    if (cap)
        out[0] = '\0';
    if (!len || len > AB_MAX_DOMAIN || ab_host_is_ip(host, len) || memchr(host, '\0', len))
        return 0;
    size_t n = ab_domain_lower(host, len, buf);
    if (!n || buf[0] == '.' || strstr(buf, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) /* a host name: no spaces, slashes, '@' or controls */
        if ((unsigned char)buf[i] <= ' ' || strchr("/@:\\?#[]<>\"'", buf[i]))
            return 0;
    const psl_ctx_t *psl = psl_builtin();
    const char *rd = psl ? psl_registrable_domain(psl, buf) : NULL;
    if (!rd)
        return 0;
    size_t rn = strlen(rd);
    if (rn + 1 > cap)
        return 0;
    memcpy(out, rd, rn + 1);
    return rn;
}

const char *ab_email_domain(const char *addr, size_t len, size_t *dlen)
{
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (addr[i] == '@')
            at = addr + i;
    if (!at)
        return NULL;
    const char *d = at + 1, *end = addr + len;
    while (end > d && (end[-1] == '>' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *dlen = (size_t)(end - d);
    return d;
}

size_t ab_domain_to_ascii(const char *name, size_t len, char *out, size_t cap)
{
    char in[IDN_MAX + 1];
    if (!cap)
        return 0;
    out[0] = '\0';
    if (!name || !len || len > IDN_MAX || memchr(name, '\0', len))
        return 0;
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        ascii &= (unsigned char)name[i] < 0x80;
    if (ascii) {
        if (len + 1 > cap)
            return 0;
        return ab_domain_lower(name, len, out);
    }
    memcpy(in, name, len);
    in[len] = '\0';
    char *res = NULL; /* owned by libidn2's allocator: idn2_free */
    int rc = idn2_to_ascii_8z(in, &res, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        idn2_free(res);
        res = NULL;
        rc = idn2_to_ascii_8z(in, &res, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    }
    size_t n = 0;
    if (rc == IDN2_OK && res) {
        size_t rn = strlen(res);
        if (rn && rn + 1 <= cap)
            n = ab_domain_lower(res, rn, out);
    }
    idn2_free(res);
    return n;
}

int ab_domain_is_public_suffix(const char *name)
{
    const psl_ctx_t *psl = psl_builtin();
    if (!name || !name[0])
        return 1;
    if (!strchr(name, '.'))
        return 1;
    return psl && psl_is_public_suffix2(psl, name, PSL_TYPE_ICANN);
}
