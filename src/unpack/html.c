/* html.c: HTML documents (mail bodies, attachments, files) through gumbo (an HTML5 parser in C),
 * from memory. Source token "html", parent token "HTML".
 *
 * Observables of the document (ab_unpack_observe), absolute URLs only (http, https, ftp, and
 * scheme-relative "//host" with "http:" put in front), trimmed of ASCII whitespace:
 * - "html.href": a/area/link href;
 * - "html.src": img/script/iframe/frame/embed/source/video/audio/track/input src, the first URL
 *   of a srcset, object data;
 * - "html.form": form action, button/input formaction;
 * - "html.refresh": <meta http-equiv=refresh content="N; url=...">;
 * - mailto: addresses in any of these as "email" (where as above).
 * Members (HTML smuggling): data: URIs in those attributes and in inline <script>/<style> text,
 * decoded (base64 or percent-encoding), as "data#N[.ext]" (ext from the media type, or from the
 * payload's magic when the type is generic); quoted base64 and hex literals of at least 1024
 * decoded bytes (64 when they start with an executable's or archive's magic) in inline <script>
 * text as
 * "script#K". Signals: link-text-mismatch, credential-form, html-smuggling (see the rules at
 * their functions).
 *
 * Safety:
 * - gumbo has no limits of its own and some shapes cost it quadratic time or memory: a deep
 *   stack of open elements (each start tag scans it: 10^5 nested <div> take 33 s), many
 *   attributes on one element (duplicate check: 2x10^5 take minutes), and the reconstruction of
 *   active formatting elements (<p><b id=N>x</p> repeated: 55 KB take 1.7 GB). So: inputs over
 *   MAX_PARSE are not parsed; a linear pre-scan estimates the open-element stack (a bounded stack
 *   of tag-name hashes, as the tree builder would pop it) and the attribute pairs, and refuses
 *   a document whose estimated work (sum of stack depths at start tags, stack searches, attribute
 *   pairs) is over MAX_COST or whose stack is over MAX_DEPTH; and gumbo allocates through an
 *   allocator that counts live bytes and, over min(MAX_HEAP, HEAP_BASE + HEAP_PER_BYTE x input),
 * longjmps out of the parse and frees every block it handed out (gumbo keeps no global state of its
 * own: everything it mutates is reached from its allocations). Each refusal is one ab_unpack_error
 * line.
 * - The tree is walked without recursion (parent pointers and indices), at most MAX_ATTRS
 *   attributes looked at per element, link text collected up to MAX_LINK_TEXT bytes.
 * - Every decoded member is at most ab_unpack_max_member() (+1) bytes, checked with
 *   ab_unpack_check() every DECODE_CHUNK bytes; at most MAX_MEMBERS members per document.
 * - No static mutable state: an HTML member of an HTML runs this source again. */
#include "unpack/unpack.h"

#include <gumbo.h>
#include <libpsl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match/domain.h"

#define CLAIM_WINDOW 1024
#define MAX_PARSE    ((size_t)32 << 20)
/* Live bytes gumbo may hold: its tree takes 20 x the input on
 * ordinary pages, up to 100 x on dense tags (<br> x 2M: 54 x). */
#define MAX_HEAP          ((size_t)768 << 20)
#define HEAP_PER_BYTE     128
#define HEAP_BASE         ((size_t)64 << 20)
#define MAX_DEPTH         4096 /* estimated open elements */
#define SELF_CLOSE_SEARCH 64
#define MAX_COST          ((uint64_t)300000000)
#define MAX_ERRORS        16 /* parse errors gumbo keeps */
#define MAX_ATTRS         4096
#define MAX_LINK_TEXT     512
#define MAX_MEMBERS       1024
#define MAX_FORMS         64
#define MIN_LITERAL       1024 /* decoded bytes of a script literal worth a member */
#define MIN_TYPED_LITERAL 64   /* ... when its first bytes are an executable's or archive's */
#define DECODE_CHUNK      ((size_t)64 << 10)
#define MAX_NAME          64

/* ---- small string helpers ---- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/* 1 when s (n bytes) starts with the lower-case word w, any case. */
static int starts_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return 0;
    return 1;
}

/* The first occurrence of the lower-case word w in s (n bytes), any case, or NULL. */
static const char *find_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (lower((unsigned char)s[i]) == w[0] && starts_ci(s + i, n - i, w))
            return s + i;
    return NULL;
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* ---- claims ---- */

/* The tags a document may start with to be HTML (after comments and an XML declaration). */
static const char *const start_tags[] = {
    "html",   "head",   "body", "meta",    "title",  "script", "style",      "form", "a",
    "div",    "table",  "p",    "span",    "font",   "br",     "center",     "img",  "link",
    "base",   "iframe", "b",    "i",       "u",      "h1",     "h2",         "h3",   "h4",
    "h5",     "h6",     "ul",   "ol",      "li",     "pre",    "blockquote", "tr",   "td",
    "strong", "em",     "hr",   "section", "header", "main",   "article",    "nav",  "noscript"};

static int claim_tag(const uint8_t *p, size_t n)
{
    size_t k = 0;
    while (k < n && k < 16 && is_alnum(p[k]))
        k++;
    if (!k || (k < n && !is_space(p[k]) && p[k] != '>' && p[k] != '/'))
        return 0;
    for (size_t i = 0; i < sizeof(start_tags) / sizeof(start_tags[0]); i++)
        if (strlen(start_tags[i]) == k && starts_ci((const char *)p, k, start_tags[i]))
            return 1;
    return 0;
}

/* HTML by content: after an optional UTF-8 BOM and whitespace, the first tag (past comments and
 * an XML declaration) is <!doctype html or one of start_tags, all within CLAIM_WINDOW bytes.
 * XML (another root element), SVG and text starting with anything but '<' are not claimed. */
static int html_claims(const uint8_t *data, size_t size)
{
    size_t n = size < CLAIM_WINDOW ? size : CLAIM_WINDOW, i = 0;
    if (n >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
        i = 3;
    for (;;) {
        while (i < n && is_space(data[i]))
            i++;
        if (i + 1 >= n || data[i] != '<')
            return 0;
        const char *s = (const char *)data + i + 1;
        size_t left = n - i - 1;
        if (starts_ci(s, left, "!--")) { /* a comment: skip it */
            const char *e = NULL;
            for (size_t j = 3; j + 2 < left; j++)
                if (s[j] == '-' && s[j + 1] == '-' && s[j + 2] == '>') {
                    e = s + j + 3;
                    break;
                }
            if (!e)
                return 0;
            i = (size_t)(e - (const char *)data);
            continue;
        }
        if (starts_ci(s, left, "?xml")) { /* XHTML: the declaration, then the same rule */
            const char *e = memchr(s, '>', left);
            if (!e)
                return 0;
            i = (size_t)(e + 1 - (const char *)data);
            continue;
        }
        if (starts_ci(s, left, "!doctype")) {
            size_t j = 8;
            while (j < left && is_space((unsigned char)s[j]))
                j++;
            return starts_ci(s + j, left - j, "html");
        }
        return claim_tag(data + i + 1, left);
    }
}

/* ---- the pre-scan: what gumbo's tree builder will cost ---- */

/* Elements that never stay open on the stack (void), or that the tree builder keeps once. */
static int not_nesting(const char *s, size_t k)
{
    static const char *const names[] = {"area",  "base",  "br",     "col",  "embed", "hr",
                                        "img",   "input", "link",   "meta", "param", "source",
                                        "track", "wbr",   "keygen", "html", "head",  "body"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == k && starts_ci(s, k, names[i]))
            return 1;
    return 0;
}

/* Elements a start tag of their kind closes (an open p closes at the next <p>, td at <td>): the
 * pre-scan pops to an open one of the same name among the top SELF_CLOSE_SEARCH entries. */
static int closes_like(const char *s, size_t k)
{
    static const char *const names[] = {"p",  "li",    "dt",    "dd",    "option",   "optgroup",
                                        "rb", "rp",    "rt",    "rtc",   "tr",       "td",
                                        "th", "tbody", "thead", "tfoot", "colgroup", "caption"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == k && starts_ci(s, k, names[i]))
            return 1;
    return 0;
}

/* The formatting elements: their end tag runs the adoption agency algorithm, which keeps the
 * formatting elements opened after them open (closed and reconstructed). */
static int formatting(const char *s, size_t k)
{
    static const char *const names[] = {"a",    "b", "big",   "code",   "em",     "font", "i",
                                        "nobr", "s", "small", "strike", "strong", "tt",   "u"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == k && starts_ci(s, k, names[i]))
            return 1;
    return 0;
}

static uint32_t name_hash(const char *s, size_t k)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k; i++)
        h = (h ^ (uint32_t)lower((unsigned char)s[i])) * 16777619u;
    return h;
}

/* Past the end of a raw-text element's content ("</script"), or n. */
static size_t skip_raw(const char *s, size_t n, size_t i, const char *end_tag)
{
    const char *e = find_ci(s + i, n - i, end_tag);
    return e ? (size_t)(e - s) : n;
}

/* 0 when gumbo may parse s; else a reason for the error line. */
static const char *prescan(const char *s, size_t n)
{
    uint32_t stack[MAX_DEPTH];
    size_t depth = 0;
    uint64_t cost = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        if (starts_ci(s + i + 1, n - i - 1, "!--")) {
            const char *e = NULL;
            for (size_t j = i + 4; j + 2 < n; j++)
                if (s[j] == '-' && s[j + 1] == '-' && s[j + 2] == '>') {
                    e = s + j;
                    break;
                }
            i = e ? (size_t)(e - s) + 2 : n;
            continue;
        }
        int end = i + 1 < n && s[i + 1] == '/';
        size_t a = i + 1 + (size_t)end, k = 0;
        if (a >= n || !is_alpha((unsigned char)s[a]))
            continue;
        while (a + k < n && !is_space((unsigned char)s[a + k]) && s[a + k] != '>' &&
               s[a + k] != '/')
            k++;
        uint32_t h = name_hash(s + a, k);
        /* Attributes up to '>' outside quotes: each one is compared with those before it. */
        size_t j = a + k;
        uint64_t attrs = 0;
        while (j < n && s[j] != '>') {
            if (is_space((unsigned char)s[j]) || s[j] == '/') {
                j++;
                continue;
            }
            attrs++;
            cost += attrs;
            while (j < n && !is_space((unsigned char)s[j]) && s[j] != '>' && s[j] != '=')
                j++;
            while (j < n && is_space((unsigned char)s[j]))
                j++;
            if (j < n && s[j] == '=') {
                j++;
                while (j < n && is_space((unsigned char)s[j]))
                    j++;
                if (j < n && (s[j] == '"' || s[j] == '\'')) {
                    const char *q = memchr(s + j + 1, s[j], n - j - 1);
                    j = q ? (size_t)(q - s) + 1 : n;
                } else {
                    while (j < n && !is_space((unsigned char)s[j]) && s[j] != '>')
                        j++;
                }
            }
        }
        i = j < n ? j : n;
        if (end) { /* pop down to the matching open element, if there is one */
            int fmt = formatting(s + a, k);
            for (size_t d = depth; d > 0; d--) {
                cost++;
                if (stack[d - 1] != h)
                    continue;
                if (fmt) { /* the adoption agency: what is above stays open (reconstructed) */
                    memmove(stack + d - 1, stack + d, (depth - d) * sizeof(stack[0]));
                    cost += depth - d;
                    depth--;
                } else {
                    depth = d - 1;
                }
                break;
            }
        } else {
            if (k == 6 && starts_ci(s + a, k, "script"))
                i = skip_raw(s, n, i, "</script");
            else if (k == 5 && starts_ci(s + a, k, "style"))
                i = skip_raw(s, n, i, "</style");
            else if (k == 8 && starts_ci(s + a, k, "textarea"))
                i = skip_raw(s, n, i, "</textarea");
            else if (!not_nesting(s + a, k)) {
                if (closes_like(s + a, k))
                    for (size_t d = depth; d > 0 && depth - d < SELF_CLOSE_SEARCH; d--) {
                        cost++;
                        if (stack[d - 1] == h) {
                            depth = d - 1;
                            break;
                        }
                    }
                if (depth >= MAX_DEPTH)
                    return "elements nested too deep";
                stack[depth++] = h;
            }
            cost += depth;
            if (i < n && s[i] == '<')
                i--; /* past raw text: the loop's i++ lands on the '<' of its end tag */
        }
        if (cost > MAX_COST)
            return "too complex (nesting, attributes)";
    }
    return NULL;
}

/* ---- gumbo's allocator: counted, and undone at once ---- */

typedef struct block {
    struct block *prev, *next;
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
} block;

typedef struct heap {
    block *head;
    size_t live, cap;
    jmp_buf over; /* where the allocator goes when MAX_HEAP would be passed */
} heap;

static void *heap_alloc(void *ud, size_t size)
{
    heap *h = ud;
    block *b = NULL;
    if (size <= h->cap && h->live + size <= h->cap)
        b = malloc(sizeof(block) + size);
    if (!b)
        longjmp(h->over, 1);
    b->size = size;
    b->prev = NULL;
    b->next = h->head;
    if (h->head)
        h->head->prev = b;
    h->head = b;
    h->live += size;
    return b + 1;
}

static void heap_free(void *ud, void *p)
{
    heap *h = ud;
    if (!p)
        return;
    block *b = (block *)p - 1;
    if (b->prev)
        b->prev->next = b->next;
    else
        h->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    h->live -= b->size;
    free(b);
}

static void heap_release(heap *h)
{
    while (h->head) {
        block *b = h->head;
        h->head = b->next;
        free(b);
    }
    h->live = 0;
}

/* ---- the walk's state ---- */

typedef struct form {
    char action[AB_MAX_DOMAIN + 1]; /* registered domain (or host) the form posts to, or "" */
    int kind;                       /* ACT_* */
    int has_password;
} form;

enum { ACT_NONE, ACT_DOMAIN, ACT_MAILTO };

typedef struct html {
    ab_unpack *u;
    int stop;
    unsigned n_data, n_script, n_members;
    /* link text of the <a> being walked */
    const GumboNode *link;
    char link_text[MAX_LINK_TEXT + 1];
    size_t link_len;
    /* forms */
    form forms[MAX_FORMS];
    size_t n_forms;
    const GumboNode *cur_form;
    long cur_form_ix;
    int password_outside;
    char base_domain[AB_MAX_DOMAIN + 1]; /* <base href>'s registered domain */
    /* smuggling */
    int primitive; /* Blob, createObjectURL, msSaveOrOpenBlob, atob or a download attribute */
    char smuggled[MAX_NAME]; /* the first executable/archive payload's member name */
    const char *smuggled_where;
} html;

static const char *attr(const GumboElement *e, const char *name)
{
    size_t n = e->attributes.length < MAX_ATTRS ? e->attributes.length : MAX_ATTRS;
    for (size_t i = 0; i < n; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        if (!strcmp(a->name, name)) /* gumbo lower-cases attribute names */
            return a->value;
    }
    return NULL;
}

/* The host of an absolute URL (http, https, ftp, or //host), or NULL. */
static const char *url_host(const char *s, size_t n, size_t *hlen)
{
    size_t i;
    if (starts_ci(s, n, "http://"))
        i = 7;
    else if (starts_ci(s, n, "https://"))
        i = 8;
    else if (starts_ci(s, n, "ftp://"))
        i = 6;
    else if (n >= 2 && s[0] == '/' && s[1] == '/')
        i = 2;
    else
        return NULL;
    size_t e = i;
    while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#' && s[e] != '\\' &&
           !is_space((unsigned char)s[e]))
        e++;
    /* userinfo@host:port */
    for (size_t k = e; k > i; k--)
        if (s[k - 1] == '@') {
            i = k;
            break;
        }
    size_t h = i;
    if (h < e && s[h] == '[') {
        while (h < e && s[h] != ']')
            h++;
        if (h < e)
            h++;
    } else {
        while (h < e && s[h] != ':')
            h++;
    }
    if (h == i)
        return NULL;
    *hlen = h - i;
    return s + i;
}

/* The registered domain of host into out; an IP literal gives the IP itself (so a mismatch with
 * it shows). 0 when neither. */
static size_t host_domain(const char *host, size_t hlen, char *out, size_t cap)
{
    if (ab_host_is_ip(host, hlen)) {
        if (hlen >= cap)
            return 0;
        memcpy(out, host, hlen);
        out[hlen] = '\0';
        return hlen;
    }
    return ab_registered_domain(host, hlen, out, cap);
}

/* ---- members ---- */

static const struct {
    const char *mime, *ext;
} mime_exts[] = {
    {"application/zip", "zip"},
    {"application/x-zip-compressed", "zip"},
    {"application/x-zip", "zip"},
    {"application/x-7z-compressed", "7z"},
    {"application/x-rar-compressed", "rar"},
    {"application/vnd.rar", "rar"},
    {"application/x-iso9660-image", "iso"},
    {"application/x-msdownload", "exe"},
    {"application/x-msdos-program", "exe"},
    {"application/vnd.microsoft.portable-executable", "exe"},
    {"application/x-ms-shortcut", "lnk"},
    {"application/pdf", "pdf"},
    {"application/msword", "doc"},
    {"application/vnd.ms-excel", "xls"},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
    {"application/x-gzip", "gz"},
    {"application/gzip", "gz"},
    {"application/javascript", "js"},
    {"text/javascript", "js"},
    {"text/html", "html"},
    {"text/plain", "txt"},
    {"image/png", "png"},
    {"image/jpeg", "jpg"},
    {"image/gif", "gif"},
    {"image/svg+xml", "svg"},
    {"image/webp", "webp"},
};

/* What the payload's magic says it is: an executable or archive type, or NULL. */
static const char *payload_kind(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 'M' && p[1] == 'Z')
        return "exe";
    if (n >= 4 && !memcmp(p, "PK\x03\x04", 4))
        return "zip";
    if (n >= 6 && !memcmp(p, "7z\xBC\xAF\x27\x1C", 6))
        return "7z";
    if (n >= 4 && !memcmp(p, "Rar!", 4))
        return "rar";
    if (n >= 0x8006 && !memcmp(p + 0x8001, "CD001", 5))
        return "iso";
    if (n >= 4 && !memcmp(p,
                          "\x7f"
                          "ELF",
                          4))
        return "elf";
    if (n >= 8 && !memcmp(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
        return "ole";
    if (n >= 4 && !memcmp(p, "MSCF", 4))
        return "cab";
    return NULL;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum { ENC_B64, ENC_PCT, ENC_HEX };

/* Decode s (n bytes) into a new buffer (owned by the caller) of at most the member cap + 1
 * bytes, checking the limits for name as it goes. Whitespace is skipped; base64 stops at '=' or
 * the first byte outside the alphabet. Returns NULL (and *room) when the member is dropped. */
static uint8_t *decode(html *h, const char *name, int enc, const char *s, size_t n, size_t *outlen,
                       ab_room *room)
{
    *room = AB_ROOM_OK;
    uint64_t cap = ab_unpack_max_member(h->u);
    uint64_t want = enc == ENC_B64 ? n / 4 * 3 + 3 : enc == ENC_HEX ? n / 2 + 1 : n + 1;
    if (want > cap + 1)
        want = cap + 1;
    uint8_t *out = malloc(want ? want : 1);
    if (!out) {
        ab_unpack_error(h->u, name, AB_ERR_NOMEM, "html: no memory to decode %zu bytes", n);
        *room = AB_ROOM_SKIP_MEMBER;
        return NULL;
    }
    size_t o = 0, next_check = DECODE_CHUNK;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && o < want; i++) {
        int c = (unsigned char)s[i];
        if (enc == ENC_B64) {
            if (is_space(c) || c == '\\')
                continue;
            int v = b64_value(c);
            if (v < 0)
                break;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (uint8_t)(acc >> bits);
            }
        } else if (enc == ENC_HEX) {
            int v = hex_value(c);
            if (v < 0)
                break;
            acc = (acc << 4) | (uint32_t)v;
            if (++bits == 2) {
                out[o++] = (uint8_t)acc;
                acc = 0;
                bits = 0;
            }
        } else if (c == '%' && i + 2 < n && hex_value((unsigned char)s[i + 1]) >= 0 &&
                   hex_value((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (uint8_t)(hex_value((unsigned char)s[i + 1]) * 16 +
                                 hex_value((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = (uint8_t)c;
        }
        if (o >= next_check || o > cap) {
            next_check = o + DECODE_CHUNK;
            *room = ab_unpack_check(h->u, name, o, i + 1);
            if (*room != AB_ROOM_OK) {
                free(out);
                return NULL;
            }
        }
    }
    *room = ab_unpack_check(h->u, name, o, n);
    if (*room != AB_ROOM_OK) {
        free(out);
        return NULL;
    }
    *outlen = o;
    return out;
}

/* html-smuggling (score 70) fires, once per document, when a decoded payload (a data: URI or a
 * script literal) is an executable or an archive by its magic (MZ, ELF, PK\3\4, 7z, Rar!, ISO
 * CD001 at 0x8001, OLE2, MSCF), unless it is a data: URI whose media type is image/, font/,
 * audio/ or video/ (inline images are everyday mail). The payload's type alone decides: no
 * legitimate page carries an executable or a zip inside itself; the reason says whether the
 * document also uses a download primitive (Blob, createObjectURL, msSaveOrOpenBlob, atob, a
 * download attribute). Raised after the walk, when every primitive has been seen. */
static void note_payload(html *h, const char *name, const char *where, const uint8_t *p, size_t n,
                         const char *mime, size_t mlen)
{
    if (h->smuggled[0] || !payload_kind(p, n))
        return;
    if (mime && (starts_ci(mime, mlen, "image/") || starts_ci(mime, mlen, "font/") ||
                 starts_ci(mime, mlen, "audio/") || starts_ci(mime, mlen, "video/")))
        return;
    snprintf(h->smuggled, sizeof(h->smuggled), "%s", name);
    h->smuggled_where = where;
}

static void yield(html *h, const char *name, const uint8_t *p, size_t n)
{
    ab_member m = {.name = name, .data = n ? p : NULL, .size = n, .packed = 0};
    h->n_members++;
    if (ab_unpack_member(h->u, &m))
        h->stop = 1;
}

/* A data: URI (s points past "data:"): decode it and yield it as data#N[.ext]. */
static void data_uri(html *h, const char *s, size_t n, const char *where)
{
    if (h->stop || h->n_members >= MAX_MEMBERS)
        return;
    const char *comma = memchr(s, ',', n);
    if (!comma)
        return;
    size_t hlen = (size_t)(comma - s);
    const char *semi = memchr(s, ';', hlen);
    size_t mlen = semi ? (size_t)(semi - s) : hlen;
    int b64 = find_ci(s, hlen, ";base64") != NULL;
    const char *ext = NULL;
    for (size_t i = 0; i < sizeof(mime_exts) / sizeof(mime_exts[0]); i++)
        if (strlen(mime_exts[i].mime) == mlen && starts_ci(s, mlen, mime_exts[i].mime))
            ext = mime_exts[i].ext;
    char name[MAX_NAME];
    unsigned k = ++h->n_data;
    snprintf(name, sizeof(name), "data#%u", k);
    ab_room room;
    size_t len = 0;
    uint8_t *d = decode(h, name, b64 ? ENC_B64 : ENC_PCT, comma + 1, n - hlen - 1, &len, &room);
    if (!d) {
        if (room == AB_ROOM_STOP)
            h->stop = 1;
        return;
    }
    if (!ext)
        ext = payload_kind(d, len);
    if (ext)
        snprintf(name, sizeof(name), "data#%u.%s", k, ext);
    note_payload(h, name, where, d, len, s, mlen);
    yield(h, name, d, len);
    free(d);
}

/* ---- observables ---- */

static void observe_url(html *h, const char *where, const char *v)
{
    if (!v)
        return;
    size_t n = strlen(v);
    trim(&v, &n);
    if (!n)
        return;
    if (starts_ci(v, n, "data:")) {
        data_uri(h, v + 5, n - 5, where);
        return;
    }
    if (starts_ci(v, n, "mailto:")) {
        const char *a = v + 7;
        size_t al = n - 7;
        for (size_t i = 0; i < al; i++)
            if (a[i] == '?' || a[i] == ',') {
                al = i;
                break;
            }
        trim(&a, &al);
        if (al && memchr(a, '@', al))
            ab_unpack_observe(h->u, "email", where, a, al);
        return;
    }
    size_t hl;
    if (!url_host(v, n, &hl))
        return;
    if (v[0] == '/') { /* scheme-relative: as a mail client opening it would */
        char buf[AB_MAX_OBSERVABLE_LEN + 8];
        size_t m = n < AB_MAX_OBSERVABLE_LEN ? n : AB_MAX_OBSERVABLE_LEN;
        memcpy(buf, "http:", 5);
        memcpy(buf + 5, v, m);
        ab_unpack_observe(h->u, "url", where, buf, m + 5);
        return;
    }
    ab_unpack_observe(h->u, "url", where, v, n);
}

/* The first URL of a srcset ("a.png 1x, b.png 2x"). */
static void observe_srcset(html *h, const char *v)
{
    size_t n = strlen(v);
    trim(&v, &n);
    if (starts_ci(v, n, "data:"))
        return; /* a data: URI's own commas make srcset ambiguous; src carries it */
    size_t e = 0;
    while (e < n && !is_space((unsigned char)v[e]) && v[e] != ',')
        e++;
    char buf[AB_MAX_OBSERVABLE_LEN + 1];
    if (e > AB_MAX_OBSERVABLE_LEN)
        e = AB_MAX_OBSERVABLE_LEN;
    memcpy(buf, v, e);
    buf[e] = '\0';
    observe_url(h, "html.src", buf);
}

/* content="5; url='http://x'" (the url= is optional, as browsers read it). */
static void observe_refresh(html *h, const char *v)
{
    size_t n = strlen(v), i = 0;
    while (i < n && is_space((unsigned char)v[i]))
        i++;
    while (i < n && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
        i++;
    while (i < n && is_space((unsigned char)v[i]))
        i++;
    if (i < n && (v[i] == ';' || v[i] == ','))
        i++;
    while (i < n && is_space((unsigned char)v[i]))
        i++;
    if (starts_ci(v + i, n - i, "url")) {
        size_t j = i + 3;
        while (j < n && is_space((unsigned char)v[j]))
            j++;
        if (j < n && v[j] == '=') {
            i = j + 1;
            while (i < n && is_space((unsigned char)v[i]))
                i++;
        }
    }
    size_t e = n;
    if (i < n && (v[i] == '\'' || v[i] == '"')) {
        const char *q = memchr(v + i + 1, v[i], n - i - 1);
        e = q ? (size_t)(q - v) : n;
        i++;
    }
    char buf[AB_MAX_OBSERVABLE_LEN + 1];
    size_t m = e - i < AB_MAX_OBSERVABLE_LEN ? e - i : AB_MAX_OBSERVABLE_LEN;
    memcpy(buf, v + i, m);
    buf[m] = '\0';
    observe_url(h, "html.refresh", buf);
}

/* ---- inline script and style text ---- */

static int is_b64_char(int c)
{
    return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

/* 1 when a literal's text starts with the encoding of an executable's or archive's magic (MZ,
 * ELF, zip, 7z, RAR, OLE2, cab): a small smuggled payload is still a payload. */
static int typed_literal(const char *s, size_t n, int hex)
{
    static const char *const b64[] = {"TVq",     "TVo",    "f0VMR",    "UEsDB",
                                      "N3q8ryc", "UmFyIR", "0M8R4KGx", "TVNDRg"};
    static const char *const hx[] = {"4d5a",     "7f454c46", "504b0304", "377abcaf",
                                     "52617221", "d0cf11e0", "4d534346"};
    const char *const *v = hex ? hx : b64;
    size_t k = hex ? sizeof(hx) / sizeof(hx[0]) : sizeof(b64) / sizeof(b64[0]);
    for (size_t i = 0; i < k; i++)
        if (hex ? starts_ci(s, n, v[i]) /* hx[] is lower case */
                : n >= strlen(v[i]) && !strncmp(s, v[i], strlen(v[i])))
            return 1;
    return 0;
}

/* data: URIs anywhere in the text; quoted base64 or hex literals of at least MIN_LITERAL decoded
 * bytes (script only) as script#K. Also notes the smuggling primitives. */
static void script_text(html *h, const char *s, size_t n, int is_script)
{
    if (is_script && !h->primitive &&
        (find_ci(s, n, "blob") || find_ci(s, n, "createobjecturl") ||
         find_ci(s, n, "mssaveoropenblob") || find_ci(s, n, "atob(")))
        h->primitive = 1;
    for (size_t i = 0; i < n && !h->stop && h->n_members < MAX_MEMBERS; i++) {
        if ((s[i] == 'd' || s[i] == 'D') && starts_ci(s + i, n - i, "data:")) {
            size_t e = i + 5;
            while (e < n && s[e] != '"' && s[e] != '\'' && s[e] != '`' && s[e] != ')' &&
                   !is_space((unsigned char)s[e]))
                e++;
            data_uri(h, s + i + 5, e - i - 5, is_script ? "html.script" : "html.style");
            i = e;
            continue;
        }
        if (!is_script || (s[i] != '"' && s[i] != '\'' && s[i] != '`'))
            continue;
        size_t e = i + 1;
        int hex = 1;
        while (e < n && is_b64_char((unsigned char)s[e])) {
            if (hex_value((unsigned char)s[e]) < 0)
                hex = 0;
            e++;
        }
        size_t len = e - i - 1;
        if (e >= n || s[e] != s[i])
            continue; /* not a literal: go on after the quote ("'data:..." included) */
        int enc = hex && len % 2 == 0 ? ENC_HEX : ENC_B64;
        size_t decoded = enc == ENC_HEX ? len / 2 : len / 4 * 3;
        if (decoded >= MIN_LITERAL ||
            (decoded >= MIN_TYPED_LITERAL && typed_literal(s + i + 1, len, enc == ENC_HEX))) {
            char name[MAX_NAME];
            snprintf(name, sizeof(name), "script#%u", ++h->n_script);
            ab_room room;
            size_t dl = 0;
            uint8_t *d = decode(h, name, enc, s + i + 1, len, &dl, &room);
            if (d) {
                note_payload(h, name, "html.script", d, dl, NULL, 0);
                yield(h, name, d, dl);
                free(d);
            } else if (room == AB_ROOM_STOP) {
                h->stop = 1;
            }
        }
        i = e;
    }
}

/* ---- link text ---- */

static void link_text_add(html *h, const char *t)
{
    for (; *t && h->link_len < MAX_LINK_TEXT; t++) {
        int sp = is_space((unsigned char)*t);
        if (sp && (!h->link_len || h->link_text[h->link_len - 1] == ' '))
            continue;
        h->link_text[h->link_len++] = sp ? ' ' : *t;
    }
    h->link_text[h->link_len] = '\0';
}

/* 1 when the last label of host is a suffix of the public suffix list itself (its "*" default
 * rule makes "e.g" a registered domain under the unknown TLD "g": text is not a domain then). */
static int known_tld(const char *host, size_t n)
{
    size_t i = n;
    while (i && host[i - 1] != '.')
        i--;
    char tld[64];
    if (n - i == 0 || n - i >= sizeof(tld))
        return 0;
    for (size_t k = i; k < n; k++)
        tld[k - i] = (char)lower((unsigned char)host[k]);
    tld[n - i] = '\0';
    const psl_ctx_t *psl = psl_builtin();
    return psl && psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

/* Display-text tokens ending in a file extension that is also a top-level domain ("report.zip",
 * "notes.md") are file names more often than domains: not taken without a scheme or "www.". */
static int file_like(const char *tok, size_t n)
{
    static const char *const exts[] = {".zip", ".mov", ".md", ".sh", ".py", ".pl", ".rs", ".ps"};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t k = strlen(exts[i]);
        if (n > k && starts_ci(tok + n - k, k, exts[i]))
            return 1;
    }
    return 0;
}

/* link-text-mismatch (score 50): the visible text of an <a> (its text descendants, whitespace
 * collapsed, first MAX_LINK_TEXT bytes) holds a URL (http/https/ftp) or a domain name (a token of
 * [A-Za-z0-9.-] with a dot that has a registered domain under the public suffix list, not an
 * e-mail address, not a file name with a TLD-like extension unless it starts with "www."), and
 * none of those names has the registered domain of the href's host (an IP href host counts as
 * itself). Not when the href is not absolute (relative, mailto:, tel:, javascript:, data:), or
 * the text has no domain-like token ("Click here", "Read more", an image). */
static void check_link(html *h, const char *href)
{
    if (!href)
        return;
    size_t n = strlen(href);
    trim(&href, &n);
    size_t hl;
    const char *host = url_host(href, n, &hl);
    if (!host)
        return;
    char href_rd[AB_MAX_DOMAIN + 1];
    if (!host_domain(host, hl, href_rd, sizeof(href_rd)))
        return;
    char seen[AB_MAX_DOMAIN + 1] = "";
    const char *t = h->link_text;
    size_t tn = h->link_len;
    for (size_t i = 0; i < tn;) {
        while (i < tn && (is_space((unsigned char)t[i]) || strchr("<>()[]\"',;|", t[i])))
            i++;
        size_t e = i;
        while (e < tn && !is_space((unsigned char)t[e]) && !strchr("<>()[]\"',;|", t[e]))
            e++;
        const char *tok = t + i;
        size_t tl = e - i;
        i = e;
        if (!tl)
            continue;
        const char *th;
        size_t thl;
        th = url_host(tok, tl, &thl);
        if (!th) {
            if (memchr(tok, '@', tl) || tok[0] == '/')
                continue;
            size_t k = 0;
            while (k < tl && (is_alnum((unsigned char)tok[k]) || tok[k] == '.' || tok[k] == '-'))
                k++;
            if (k < tl && tok[k] != '/' && tok[k] != ':' && tok[k] != '?')
                continue; /* not a host[/path] */
            while (k && (tok[k - 1] == '.' || tok[k - 1] == '-'))
                k--; /* "example.com." at the end of a sentence */
            if (!memchr(tok, '.', k) || ab_host_is_ip(tok, k))
                continue;
            if ((!starts_ci(tok, k, "www.") && file_like(tok, k)) || !known_tld(tok, k))
                continue;
            th = tok;
            thl = k;
        }
        char rd[AB_MAX_DOMAIN + 1];
        if (!host_domain(th, thl, rd, sizeof(rd)))
            continue;
        if (!strcmp(rd, href_rd))
            return; /* the text names where the link goes */
        if (!seen[0])
            snprintf(seen, sizeof(seen), "%s", rd);
    }
    if (!seen[0])
        return;
    char reason[2 * AB_MAX_DOMAIN + 64];
    snprintf(reason, sizeof(reason), "link text names %s but the link goes to %s", seen, href_rd);
    char val[AB_MAX_OBSERVABLE_LEN + 1];
    size_t m = n < AB_MAX_OBSERVABLE_LEN ? n : AB_MAX_OBSERVABLE_LEN;
    memcpy(val, href, m);
    val[m] = '\0';
    ab_unpack_signal(h->u, "link-text-mismatch", 50, reason, val, "url", "html.href");
}

/* ---- forms ---- */

static void form_action(html *h, form *f, const char *v)
{
    f->kind = ACT_NONE;
    f->action[0] = '\0';
    if (!v)
        return;
    size_t n = strlen(v);
    trim(&v, &n);
    size_t hl;
    const char *host = url_host(v, n, &hl);
    if (host) {
        if (host_domain(host, hl, f->action, sizeof(f->action)))
            f->kind = ACT_DOMAIN;
        else if (hl < sizeof(f->action)) { /* a host that is no registered domain */
            memcpy(f->action, host, hl);
            f->action[hl] = '\0';
            f->kind = ACT_DOMAIN;
        }
        return;
    }
    if (starts_ci(v, n, "mailto:")) {
        size_t dl;
        const char *d = ab_email_domain(v + 7, n - 7, &dl);
        if (d) {
            size_t q = 0;
            while (q < dl && d[q] != '?')
                q++;
            if (!host_domain(d, q, f->action, sizeof(f->action)))
                snprintf(f->action, sizeof(f->action), "%.*s", (int)(q < 200 ? q : 200), d);
            f->kind = ACT_MAILTO;
        }
    }
    (void)h;
}

/* The registered domain of the sender (the address in <> of From, or From as it is). */
static size_t sender_domain(ab_unpack *u, char *out, size_t cap)
{
    const ab_mail_info *mi = ab_unpack_mail(u);
    out[0] = '\0';
    if (!mi || !mi->from)
        return 0;
    const char *a = mi->from;
    size_t n = strlen(a);
    const char *lt = memchr(a, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - a));
        a = lt + 1;
        n = gt ? (size_t)(gt - a) : n - (size_t)(lt - mi->from) - 1;
    }
    size_t dl;
    const char *d = ab_email_domain(a, n, &dl);
    return d ? ab_registered_domain(d, dl, out, cap) : 0;
}

/* credential-form (score 60): a password input (<input type=password>) inside a <form>, or
 * outside every form of a document that has forms (then every form is looked at), where the
 * form posts:
 * - to an absolute URL (or mailto:) whose registered domain is neither the sender's (From of the
 *   message the HTML is part of; no message: none) nor a protected domain's registered domain;
 * - or nowhere visible: no action, or a relative / javascript: one, with no <base href> to
 *   resolve it (an HTML file or attachment is not served by a site: phishing kits post with
 *   script). With <base href>, a relative action posts to the base's domain.
 * Also a password input in a document with no form at all (a script takes the password).
 * Not: a password form posting to the sender's or a protected registered domain. */
static void check_forms(html *h)
{
    int any = h->password_outside;
    for (size_t i = 0; i < h->n_forms; i++)
        any |= h->forms[i].has_password;
    if (!any)
        return;
    char sender[AB_MAX_DOMAIN + 1];
    sender_domain(h->u, sender, sizeof(sender));
    const char *const *prot;
    size_t np = ab_unpack_protected_domains(h->u, &prot);
    char reason[2 * AB_MAX_DOMAIN + 128];
    if (!h->n_forms) {
        ab_unpack_signal(h->u, "credential-form", 60,
                         "a password field outside any form: a script takes it (phishing kit)",
                         NULL, NULL, "html.form");
        return;
    }
    for (size_t i = 0; i < h->n_forms; i++) {
        form *f = &h->forms[i];
        if (!f->has_password && !h->password_outside)
            continue;
        const char *to = f->action;
        if (f->kind == ACT_NONE && h->base_domain[0])
            to = h->base_domain;
        if (!to[0]) {
            ab_unpack_signal(h->u, "credential-form", 60,
                             "a password form posts nowhere visible (no or a relative action in "
                             "a document no site serves: phishing kits post with script)",
                             NULL, NULL, "html.form");
            return;
        }
        if (sender[0] && !strcmp(sender, to))
            continue;
        int ok = 0;
        for (size_t k = 0; k < np && !ok; k++) {
            char prd[AB_MAX_DOMAIN + 1];
            size_t pl = strlen(prot[k]);
            if (!ab_registered_domain(prot[k], pl, prd, sizeof(prd)))
                snprintf(prd, sizeof(prd), "%s", prot[k]);
            ok = !strcmp(prd, to);
        }
        if (ok)
            continue;
        snprintf(reason, sizeof(reason), "a password form posts to %s%s%s%s", to,
                 sender[0] ? " (the sender is " : ", not a protected domain",
                 sender[0] ? sender : "", sender[0] ? ")" : "");
        ab_unpack_signal(h->u, "credential-form", 60, reason, to, "domain", "html.form");
        return;
    }
}

/* ---- the walk ---- */

static void enter_element(html *h, const GumboNode *node)
{
    const GumboElement *e = &node->v.element;
    switch (e->tag) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_LINK:
        observe_url(h, "html.href", attr(e, "href"));
        if (e->tag == GUMBO_TAG_A && attr(e, "download"))
            h->primitive = 1;
        if (e->tag == GUMBO_TAG_A && !h->link) {
            h->link = node;
            h->link_len = 0;
            h->link_text[0] = '\0';
        }
        break;
    case GUMBO_TAG_BASE: {
        const char *v = attr(e, "href");
        size_t n = v ? strlen(v) : 0, hl;
        if (v)
            trim(&v, &n);
        const char *host = v ? url_host(v, n, &hl) : NULL;
        if (host && !h->base_domain[0])
            host_domain(host, hl, h->base_domain, sizeof(h->base_domain));
        observe_url(h, "html.href", v);
        break;
    }
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_TRACK:
        observe_url(h, "html.src", attr(e, "src"));
        if (attr(e, "srcset"))
            observe_srcset(h, attr(e, "srcset"));
        break;
    case GUMBO_TAG_OBJECT:
        observe_url(h, "html.src", attr(e, "data"));
        break;
    case GUMBO_TAG_FORM:
        observe_url(h, "html.form", attr(e, "action"));
        if (h->n_forms < MAX_FORMS) {
            form *f = &h->forms[h->n_forms];
            memset(f, 0, sizeof(*f));
            form_action(h, f, attr(e, "action"));
            if (!h->cur_form) {
                h->cur_form = node;
                h->cur_form_ix = (long)h->n_forms;
            }
            h->n_forms++;
        }
        break;
    case GUMBO_TAG_BUTTON:
        observe_url(h, "html.form", attr(e, "formaction"));
        break;
    case GUMBO_TAG_INPUT: {
        observe_url(h, "html.form", attr(e, "formaction"));
        const char *type = attr(e, "type");
        if (type && !strcasecmp(type, "image"))
            observe_url(h, "html.src", attr(e, "src"));
        if (type && !strcasecmp(type, "password")) {
            if (h->cur_form && h->cur_form_ix >= 0)
                h->forms[h->cur_form_ix].has_password = 1;
            else
                h->password_outside = 1;
        }
        break;
    }
    case GUMBO_TAG_META: {
        const char *eq = attr(e, "http-equiv");
        if (eq && !strcasecmp(eq, "refresh") && attr(e, "content"))
            observe_refresh(h, attr(e, "content"));
        break;
    }
    default:
        break;
    }
}

static void leave_element(html *h, const GumboNode *node)
{
    if (node == h->link) {
        check_link(h, attr(&node->v.element, "href"));
        h->link = NULL;
    }
    if (node == h->cur_form) {
        h->cur_form = NULL;
        h->cur_form_ix = -1;
    }
}

static void visit_text(html *h, const GumboNode *node)
{
    const GumboNode *p = node->parent;
    const char *t = node->v.text.text;
    if (p && p->type == GUMBO_NODE_ELEMENT &&
        (p->v.element.tag == GUMBO_TAG_SCRIPT || p->v.element.tag == GUMBO_TAG_STYLE)) {
        script_text(h, t, strlen(t), p->v.element.tag == GUMBO_TAG_SCRIPT);
        return;
    }
    if (h->link && node->type != GUMBO_NODE_COMMENT)
        link_text_add(h, t);
}

static const GumboVector *children(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
        return &n->v.element.children;
    return NULL;
}

/* Depth first, in document order, without recursion: down to the first child, else along to
 * the next sibling, else up (leaving elements) until an ancestor has one. */
static void walk(html *h, const GumboNode *root)
{
    const GumboNode *n = root;
    while (n && !h->stop) {
        if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
            enter_element(h, n);
        else if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA ||
                 n->type == GUMBO_NODE_WHITESPACE)
            visit_text(h, n);
        const GumboVector *c = children(n);
        if (c && c->length) {
            n = c->data[0];
            continue;
        }
        for (;;) {
            if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
                leave_element(h, n);
            if (n == root) {
                n = NULL;
                break;
            }
            const GumboNode *p = n->parent;
            const GumboVector *pc = p ? children(p) : NULL;
            size_t next = n->index_within_parent + 1;
            if (pc && next < pc->length) {
                n = pc->data[next];
                break;
            }
            n = p;
            if (!n)
                break;
        }
    }
}

static ab_status html_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    if (size > MAX_PARSE) {
        ab_unpack_error(u, NULL, AB_ERR_LIMIT, "html: %zu bytes, over the %zu MiB parsed", size,
                        MAX_PARSE >> 20);
        return AB_ERR_LIMIT;
    }
    const char *why = prescan((const char *)data, size);
    if (why) {
        ab_unpack_error(u, NULL, AB_ERR_LIMIT, "html: not parsed: %s", why);
        return AB_ERR_LIMIT;
    }
    /* Owned here: st (the walk state, large), the heap gumbo's allocations live in. */
    html *st = calloc(1, sizeof(*st));
    heap *hp = calloc(1, sizeof(*hp));
    ab_status rc = AB_OK;
    if (!st || !hp) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "html: no memory");
        rc = AB_ERR_NOMEM;
        goto out;
    }
    st->u = u;
    st->cur_form_ix = -1;
    hp->cap =
        size < (MAX_HEAP - HEAP_BASE) / HEAP_PER_BYTE ? HEAP_BASE + size * HEAP_PER_BYTE : MAX_HEAP;
    GumboOptions opt = kGumboDefaultOptions;
    opt.allocator = heap_alloc;
    opt.deallocator = heap_free;
    opt.userdata = hp;
    opt.max_errors = MAX_ERRORS;
    opt.stop_on_first_error = false;
    GumboOutput *volatile out = NULL;
    if (setjmp(hp->over)) {
        heap_release(hp);
        ab_unpack_error(u, NULL, AB_ERR_LIMIT, "html: not parsed: over %zu MiB of parse tree",
                        hp->cap >> 20);
        rc = AB_ERR_LIMIT;
        goto out;
    }
    out = gumbo_parse_with_options(&opt, (const char *)data, size);
    walk(st, out->document);
    check_forms(st);
    if (st->smuggled[0]) {
        char reason[320];
        snprintf(reason, sizeof(reason), "an %s payload decoded from the HTML%s",
                 st->smuggled_where && !strcmp(st->smuggled_where, "html.script")
                     ? "executable or archive script literal"
                     : "executable or archive data: URI",
                 st->primitive ? ", which uses a download primitive (Blob, createObjectURL, "
                                 "msSaveOrOpenBlob, atob or a download attribute)"
                               : "");
        ab_unpack_signal(u, "html-smuggling", 70, reason, st->smuggled, "member",
                         st->smuggled_where);
    }
    /* Cannot longjmp: destroying only frees. */
    gumbo_destroy_output(&opt, out);
out:
    if (hp)
        heap_release(hp);
    free(hp);
    free(st);
    return rc;
}

const ab_source ab_source_html = {
    .name = "html",
    .parent = "HTML",
    .claims = html_claims,
    .run = html_run,
    .media_type = "text/html", /* a mail's HTML body may start with text, not a tag */
};
