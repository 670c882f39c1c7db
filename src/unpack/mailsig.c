/* mailsig.c: phishing signals of messages and attachments (mailsig.h, docs/mail-signals.md).
 * Each check looks at bounded header values and names; a signal fires at most once per message
 * (ab_unpack_signal). The clean-mail exceptions (mailing lists, ESP bounce addresses, "via"
 * relays) are what keeps ordinary business mail silent: the clean fixtures test them. */
#include "unpack/mailsig.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "match/domain.h"
#include "match/url.h"

#define MAX_DKIM_SIGS 16

/* ---- helpers ---- */

static const char *first_mailbox(InternetAddressList *l, const char **name)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n && i < 256; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            if (name)
                *name = internet_address_get_name(ia);
            return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        }
    }
    return NULL;
}

static void reg_of_addr(const char *addr, char *out, size_t cap)
{
    out[0] = '\0';
    size_t dl = 0;
    const char *d = addr ? ab_email_domain(addr, strlen(addr), &dl) : NULL;
    if (d)
        ab_registered_domain(d, dl, out, cap);
}

/* The registered domain of the address in a List-Post ("<mailto:l@lists.x.org>") or of the
 * host part of a List-Id ("Name <list.lists.x.org>"). */
static void reg_of_list_header(const char *v, int is_id, char *out, size_t cap)
{
    out[0] = '\0';
    if (!v)
        return;
    const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    const char *s = lt ? lt + 1 : v, *e = gt ? gt : v + strlen(v);
    if (!is_id) {
        if ((size_t)(e - s) > 7 && !strncasecmp(s, "mailto:", 7))
            s += 7;
        const char *q = memchr(s, '?', (size_t)(e - s));
        if (q)
            e = q;
        size_t dl = 0;
        const char *d = ab_email_domain(s, (size_t)(e - s), &dl);
        if (d)
            ab_registered_domain(d, dl, out, cap);
        return;
    }
    ab_registered_domain(s, (size_t)(e - s), out, cap);
}

static const char *header(GMimeObject *o, const char *name)
{
    return g_mime_object_get_header(o, name);
}

/* token=value in an Authentication-Results or DKIM-Signature value, at a token boundary. */
static int has_result(const char *v, const char *method, const char *result)
{
    size_t ml = strlen(method), rl = strlen(result);
    for (const char *p = v; (p = strcasestr(p, method)) != NULL; p += ml) {
        if (p > v && !strchr(" \t;(\r\n", p[-1]))
            continue;
        const char *q = p + ml;
        while (*q == ' ')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        if (!strncasecmp(q, result, rl) && (!q[rl] || strchr(" \t;()\r\n", q[rl])))
            return 1;
    }
    return 0;
}

/* d= of a DKIM-Signature, registered domain, into out. */
static void dkim_domain(const char *v, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = v; p && *p; p++) {
        if ((p == v || strchr(" \t;", p[-1])) && (p[0] == 'd' || p[0] == 'D')) {
            const char *q = p + 1;
            while (*q == ' ')
                q++;
            if (*q != '=')
                continue;
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            size_t n = strcspn(q, "; \t\r\n");
            ab_registered_domain(q, n, out, cap);
            return;
        }
    }
}

/* ---- header signals ---- */

typedef struct hdr_facts {
    int list_mail;                       /* List-Id, List-Unsubscribe or Precedence bulk/list */
    char list_dom[2][AB_MAX_DOMAIN + 1]; /* registered domains of List-Post and List-Id */
    int dkim_aligned;                    /* a DKIM-Signature d= with the From's domain */
    const char *auth;                    /* the first Authentication-Results */
} hdr_facts;

static void gather(GMimeObject *msg, const char *from_domain, hdr_facts *h)
{
    memset(h, 0, sizeof(*h));
    const char *lp = header(msg, "List-Post"), *li = header(msg, "List-Id");
    const char *prec = header(msg, "Precedence");
    h->list_mail = li || lp || header(msg, "List-Unsubscribe") ||
                   (prec && (strcasestr(prec, "bulk") || strcasestr(prec, "list")));
    reg_of_list_header(lp, 0, h->list_dom[0], sizeof(h->list_dom[0]));
    reg_of_list_header(li, 1, h->list_dom[1], sizeof(h->list_dom[1]));
    GMimeHeaderList *hl = g_mime_object_get_header_list(msg);
    int n = hl ? g_mime_header_list_get_count(hl) : 0, dkim = 0;
    for (int i = 0; i < n; i++) {
        GMimeHeader *hd = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(hd), *v = g_mime_header_get_value(hd);
        if (!name || !v)
            continue;
        if (!h->auth && !strcasecmp(name, "Authentication-Results"))
            h->auth = v; /* the receiving server's: the topmost one */
        else if (!strcasecmp(name, "DKIM-Signature") && dkim++ < MAX_DKIM_SIGS) {
            char d[AB_MAX_DOMAIN + 1];
            dkim_domain(v, d, sizeof(d));
            if (*d && *from_domain && !strcmp(d, from_domain))
                h->dkim_aligned = 1;
        }
    }
}

static void reply_to_signal(ab_unpack *u, GMimeMessage *m, const char *from_domain,
                            const hdr_facts *h)
{
    InternetAddressList *rt = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_REPLY_TO);
    int n = rt ? internet_address_list_length(rt) : 0;
    for (int i = 0; i < n && i < 64 && *from_domain; i++) {
        InternetAddress *ia = internet_address_list_get_address(rt, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        char d[AB_MAX_DOMAIN + 1];
        reg_of_addr(a, d, sizeof(d));
        if (!*d || !strcmp(d, from_domain))
            continue;
        if (h->list_mail && (!strcmp(d, h->list_dom[0]) || !strcmp(d, h->list_dom[1])))
            continue; /* a list sets Reply-To to itself */
        char why[600];
        snprintf(why, sizeof(why), "Reply-To goes to %s, the message is from %s", d, from_domain);
        ab_unpack_signal(u, "reply-to-mismatch", AB_SIG_REPLY_TO, why, a, "email", "mail.header");
        return;
    }
}

static void return_path_signal(ab_unpack *u, GMimeObject *msg, const char *from_domain,
                               const hdr_facts *h)
{
    const char *rp = header(msg, "Return-Path");
    if (!rp || !*from_domain || h->list_mail || h->dkim_aligned ||
        (h->auth && has_result(h->auth, "dmarc", "pass")))
        return; /* bulk senders bounce to their ESP; an aligned signature vouches for From */
    InternetAddressList *l = internet_address_list_parse(NULL, rp);
    const char *a = first_mailbox(l, NULL);
    char d[AB_MAX_DOMAIN + 1];
    reg_of_addr(a, d, sizeof(d));
    if (*d && strcmp(d, from_domain)) {
        char why[600];
        snprintf(why, sizeof(why),
                 "Return-Path (envelope sender) is at %s, the message is from %s, and no "
                 "DKIM signature or DMARC pass vouches for the From domain",
                 d, from_domain);
        ab_unpack_signal(u, "return-path-mismatch", AB_SIG_RETURN_PATH, why, a, "email",
                         "mail.header");
    }
    if (l)
        g_object_unref(l);
}

/* An address-like token in a display name ("support@bank.example"), into out. */
static int address_in_name(const char *name, char *out, size_t cap)
{
    const char *at = strchr(name, '@');
    while (at) {
        const char *s = at, *e = at + 1;
        while (s > name && (g_ascii_isalnum(s[-1]) || strchr("._%+-", s[-1])))
            s--;
        while (*e && (g_ascii_isalnum(*e) || *e == '.' || *e == '-'))
            e++;
        while (e > at + 1 && e[-1] == '.')
            e--;
        if (s < at && memchr(at + 1, '.', (size_t)(e - at - 1)) && (size_t)(e - s) < cap) {
            memcpy(out, s, (size_t)(e - s));
            out[e - s] = '\0';
            return 1;
        }
        at = strchr(at + 1, '@');
    }
    return 0;
}

static void display_name_signal(ab_unpack *u, GMimeMessage *m, const char *from_domain)
{
    const char *name = NULL;
    const char *addr =
        first_mailbox(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_FROM), &name);
    char shown[320], d[AB_MAX_DOMAIN + 1];
    if (!addr || !name || strlen(name) > 1024 || !address_in_name(name, shown, sizeof(shown)))
        return;
    if (strcasestr(name, " via ")) /* Google Groups, Docs: "'a@x.org' via List" <list@...> */
        return;
    reg_of_addr(shown, d, sizeof(d));
    if (!*d || !strcmp(d, from_domain))
        return;
    char why[800];
    snprintf(why, sizeof(why), "the sender's name shows %s, the address is %s", shown, addr);
    ab_unpack_signal(u, "display-name-address", AB_SIG_DISPLAY_NAME, why, shown, "email",
                     "mail.header");
}

static void auth_signals(ab_unpack *u, const hdr_facts *h)
{
    static const struct {
        const char *method, *rule;
        int score;
    } m[] = {{"spf", "auth-spf-fail", AB_SIG_SPF_FAIL},
             {"dkim", "auth-dkim-fail", AB_SIG_DKIM_FAIL},
             {"dmarc", "auth-dmarc-fail", AB_SIG_DMARC_FAIL}};
    if (!h->auth)
        return;
    for (size_t i = 0; i < 3; i++)
        if (has_result(h->auth, m[i].method, "fail")) {
            char why[96];
            snprintf(why, sizeof(why), "the receiving server's Authentication-Results say %s=fail",
                     m[i].method);
            ab_unpack_signal(u, m[i].rule, m[i].score, why, NULL, NULL, "mail.header");
        }
}

void ab_mail_header_signals(ab_unpack *u, struct _GMimeObject *msg, const char *from_domain)
{
    if (!GMIME_IS_MESSAGE(msg))
        return;
    hdr_facts h;
    gather(msg, from_domain, &h);
    reply_to_signal(u, GMIME_MESSAGE(msg), from_domain, &h);
    return_path_signal(u, msg, from_domain, &h);
    display_name_signal(u, GMIME_MESSAGE(msg), from_domain);
    auth_signals(u, &h);
}

/* ---- attachments ---- */

static const char *const exec_ext[] = {
    "exe", "scr", "pif", "com",  "bat", "cmd",  "js",   "jse", "vbs",         "vbe", "wsf",
    "wsh", "hta", "lnk", "msi",  "msp", "ps1",  "psm1", "jar", "cpl",         "dll", "reg",
    "iso", "img", "vhd", "vhdx", "scf", "appx", "msix", "xll", "application",
};
static const char *const doc_ext[] = {
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "txt", "rtf", "jpg", "jpeg",
    "png", "gif", "zip",  "rar",  "htm", "html", "csv",  "odt", "mp3",  "mp4", "avi", "wav"};

static int ext_in(const char *e, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && !strncasecmp(list[i], e, n))
            return 1;
    return 0;
}

/* The last extension of name[0..len): [*e, *e + *n). 0 when none. */
static int last_ext(const char *name, size_t len, const char **e, size_t *n)
{
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.')
            dot = name + i;
        else if (name[i] == '/' || name[i] == '\\')
            dot = NULL;
    if (!dot || dot + 1 >= name + len)
        return 0;
    *e = dot + 1;
    *n = (size_t)(name + len - dot - 1);
    return 1;
}

int ab_mail_name_is_executable(const char *name, size_t len)
{
    const char *e;
    size_t n;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '.'))
        len--; /* Windows drops trailing spaces and dots */
    return last_ext(name, len, &e, &n) &&
           ext_in(e, n, exec_ext, sizeof(exec_ext) / sizeof(exec_ext[0]));
}

static int has_bidi_override(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p[0]; p++)
        if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xAE || p[2] == 0xAD || p[2] == 0xAB))
            return 1; /* U+202E RLO, U+202D LRO, U+202B RLE */
        else if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA8)
            return 1; /* U+2066..2068 isolates */
    return 0;
}

static int double_extension(const char *name)
{
    size_t len = strlen(name);
    while (len && (name[len - 1] == ' ' || name[len - 1] == '.'))
        len--;
    const char *e1, *e0;
    size_t n1, n0;
    if (!last_ext(name, len, &e1, &n1) ||
        !ext_in(e1, n1, exec_ext, sizeof(exec_ext) / sizeof(exec_ext[0])))
        return 0;
    size_t stem = (size_t)(e1 - 1 - name);
    while (stem && name[stem - 1] == ' ') /* "invoice.pdf            .exe" */
        stem--;
    return last_ext(name, stem, &e0, &n0) &&
           ext_in(e0, n0, doc_ext, sizeof(doc_ext) / sizeof(doc_ext[0]));
}

/* A zip whose first local headers say a member is encrypted (general purpose bit 0). */
static int zip_encrypted(const uint8_t *d, size_t n)
{
    size_t lim = n < (64u << 10) ? n : (64u << 10);
    for (size_t i = 0; i + 30 <= lim; i++)
        if (d[i] == 'P' && d[i + 1] == 'K' && d[i + 2] == 3 && d[i + 3] == 4 && (d[i + 6] & 1))
            return 1;
    return 0;
}

void ab_mail_attachment_signals(ab_unpack *u, const char *name, const char *mime_type,
                                const uint8_t *data, size_t len, int *encrypted_archive)
{
    char why[512];
    size_t nl = strlen(name);
    if (has_bidi_override(name)) {
        snprintf(why, sizeof(why),
                 "attachment name holds a right-to-left override: its real "
                 "extension is not the one shown");
        ab_unpack_signal(u, "attachment-rtl-override", AB_SIG_RTL_OVERRIDE, why, name, "name",
                         "mail.attachment");
    }
    if (double_extension(name)) {
        snprintf(why, sizeof(why),
                 "attachment name has a document extension before an "
                 "executable one");
        ab_unpack_signal(u, "attachment-double-extension", AB_SIG_DOUBLE_EXT, why, name, "name",
                         "mail.attachment");
    }
    int mz = len >= 64 && data[0] == 'M' && data[1] == 'Z';
    int exec_type = mime_type && (!strcasecmp(mime_type, "application/x-msdownload") ||
                                  !strcasecmp(mime_type, "application/x-dosexec") ||
                                  !strcasecmp(mime_type, "application/x-msdos-program") ||
                                  !strcasecmp(mime_type, "application/hta"));
    if (ab_mail_name_is_executable(name, nl) || exec_type || mz) {
        snprintf(why, sizeof(why), "%s",
                 mz ? "an executable (MZ) is attached"
                    : "an executable or script type is attached");
        ab_unpack_signal(u, "attachment-executable", AB_SIG_EXECUTABLE, why, name, "name",
                         "mail.attachment");
    }
    if (len > 4 && zip_encrypted(data, len))
        *encrypted_archive = 1;
}

/* ---- text bodies ---- */

typedef struct text_ctx {
    ab_unpack *u;
    const char *where;
} text_ctx;

static int on_text_value(void *ctx, const char *type, const char *value, size_t len, int defanged)
{
    text_ctx *t = ctx;
    (void)defanged;
    ab_unpack_observe(t->u, type, t->where, value, len);
    return ab_unpack_stopped(t->u);
}

void ab_mail_text_urls(ab_unpack *u, const char *text, size_t len, const char *where)
{
    text_ctx t = {u, where};
    ab_url_extract_text(text, len, on_text_value, &t); /* refanged: hxxp, [.] and their kin */
}

size_t ab_mail_find_password(const char *text, size_t len, char *out, size_t cap, size_t *used)
{
    static const char *const keys[] = {"password",
                                       "passwort",
                                       "kennwort",
                                       "mot de passe",
                                       "contrase\xc3\xb1"
                                       "a",
                                       "pwd",
                                       "\xd0\xbf\xd0\xb0\xd1\x80"
                                       "\xd0\xbe\xd0\xbb\xd1\x8c"};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i] | 0x20; /* ASCII lower case; a cheap first test */
        if (c != 'p' && c != 'k' && c != 'm' && c != 'c' && c != (0xd0 | 0x20))
            continue;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t kl = strlen(keys[k]);
            if (((unsigned char)keys[k][0] | 0x20) != c || len - i < kl ||
                strncasecmp(text + i, keys[k], kl))
                continue;
            /* ':' '=' or " is " within the same line, a few words on */
            size_t j = i + kl, lim = j + 48 < len ? j + 48 : len;
            size_t v = 0;
            for (size_t q = j; q < lim && text[q] != '\n'; q++) {
                if (text[q] == ':' || text[q] == '=') {
                    v = q + 1;
                    break;
                }
                if (q + 4 <= lim && !strncasecmp(text + q, " is ", 4)) {
                    v = q + 4;
                    break;
                }
            }
            if (!v)
                continue;
            while (v < len && (text[v] == ' ' || text[v] == '\t'))
                v++;
            char quote = v < len && strchr("\"'\xab", text[v]) ? text[v] : 0;
            if (quote)
                v++;
            size_t e = v;
            while (e < len && e - v < cap - 1 && text[e] != '\n' &&
                   (quote ? text[e] != quote : (unsigned char)text[e] > ' '))
                e++;
            while (!quote && e > v && strchr(".,;)!?", text[e - 1]))
                e--;
            size_t n = e - v;
            if (n >= 3 && n <= AB_MAIL_MAX_PASSWORD && n < cap) {
                memcpy(out, text + v, n);
                out[n] = '\0';
                *used = e;
                return n;
            }
            i = j;
            break;
        }
    }
    *used = len;
    return 0;
}
