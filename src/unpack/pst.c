/* pst.c: Outlook personal folders and offline stores (PST, OST: ANSI and Unicode) through
 * libpff, read from memory (a libbfio handle of our own over the object's bytes, see mem_io; no
 * path is ever opened). Every message
 * of the folder tree is one member: the message converted to an RFC 5322 / MIME message, which
 * the mail source (mime.c) then parses like any .eml (headers, bodies, attachments). The member
 * is named "<folder path>/<subject> (<YYYY-MM-DD>)", the folder path from below the root and
 * below the IPM subtree ("Top of Personal Folders"), e.g. "Inbox/Re: vaccine trial data
 * (2020-05-14)"; its source is "pst", its parent "PST", its mtime the delivery time. Messages and
 * folders outside the tree (libpff's orphan items: their folder was deleted) follow, named
 * "(orphan)/...".
 *
 * The MIME text: the message's transport headers when it has them (without their
 * Content-Type, Content-Transfer-Encoding and MIME-Version lines, and without lines that are no
 * header fields), plus From, To, Cc, Subject, Date and Message-ID synthesized from the message's
 * properties when missing (RFC 2047 for non-ASCII values); then our own multipart/mixed with a
 * random boundary, checked against the text (rebuilt with another on a collision): the plain
 * text body (UTF-8), the HTML body, the RTF body (libpff decompresses it) as quoted-printable,
 * each attachment as base64 with its long file name (RFC 2231 when not ASCII), and each
 * embedded message as a message/rfc822 part converted the same way, at most MAX_NEST deep.
 *
 * Safety: the whole text of a message never grows past ab_unpack_max_member(): every size
 * libpff reports is checked against the room left before anything is allocated or read, and a
 * message that does not fit is a limit (ab_unpack_check) and is dropped. Folder depth, folders,
 * messages per folder, attachments and recipients per message are bounded. Values written into
 * headers have their control characters replaced, so a hostile subject cannot add a header
 * or end the header block. libpff has no global state to initialise. */
#include "unpack/unpack.h"

#include <libbfio.h>
#include <libpff.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define MAX_DEPTH       32      /* folders inside folders */
#define MAX_FOLDERS     65536   /* folders visited in one file */
#define MAX_MESSAGES    1000000 /* messages in one folder */
#define MAX_ATTACHMENTS 4096    /* per message */
#define MAX_RECIPIENTS  4096    /* per message */
#define MAX_NEST        8       /* embedded messages inside messages */
#define MAX_NAME        255     /* bytes of a folder name, subject or file name in a name */
#define MAX_HEADER      4096    /* bytes of one synthesized header value */
#define PATH_LEN        4096
#define READ_BLOCK      ((size_t)57 << 10) /* attachment bytes per read: 76-column base64 */
#define BOUNDARY_TRIES  4
#define MAX_ERRORS      16 /* unreadable messages or sub-folders of one folder said one by one */

/* MAPI property identifiers libpff has no accessor for. */
#define PR_SENDER_SMTP_ADDRESS  0x5d01
#define PR_SENDER_EMAIL_ADDRESS 0x0c1f
#define PR_SENT_REPR_EMAIL      0x0065
#define PR_SENDER_NAME          0x0c1a
#define PR_SENT_REPR_NAME       0x0042
#define PR_DISPLAY_TO           0x0e04
#define PR_DISPLAY_CC           0x0e03
#define PR_SUBJECT              0x0037
#define PR_INTERNET_MESSAGE_ID  0x1035
#define PR_TRANSPORT_HEADERS    0x007d
#define PR_CLIENT_SUBMIT_TIME   0x0039
#define PR_DELIVERY_TIME        0x0e06
#define PR_CREATION_TIME        0x3007
#define PR_RECIPIENT_TYPE       0x0c15
#define PR_DISPLAY_NAME         0x3001
#define PR_EMAIL_ADDRESS        0x3003
#define PR_SMTP_ADDRESS         0x39fe
#define PR_ATTACH_LONG_FILENAME 0x3707
#define PR_ATTACH_FILENAME      0x3704
#define PR_ATTACH_MIME_TAG      0x370e
#define PR_INTERNET_CODEPAGE    0x3fde
#define PR_IPM_SUBTREE_ENTRYID  0x35e0

/* ---- a text buffer that never grows past its cap ---- */

typedef struct sbuf {
    char *p; /* owned */
    size_t len, cap, max;
    int over; /* something did not fit under max */
    int nomem;
} sbuf;

static int sb_room(sbuf *b, size_t n)
{
    if (b->over || b->nomem)
        return 0;
    if (n > b->max - b->len) {
        b->over = 1;
        return 0;
    }
    if (b->len + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->len + n)
            ncap = ncap > b->max / 2 ? b->max : ncap * 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->nomem = 1;
            return 0;
        }
        b->p = np;
        b->cap = ncap;
    }
    return 1;
}

static void sb_add(sbuf *b, const void *s, size_t n)
{
    if (n && sb_room(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- encodings ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of n bytes without line breaks into out (4 * ceil(n / 3) bytes). */
static size_t b64(const uint8_t *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    return o;
}

/* Base64 in 76-column CRLF lines; n a multiple of 57 except for the last call. */
static void sb_b64_lines(sbuf *b, const uint8_t *s, size_t n)
{
    char line[80];
    for (size_t i = 0; i < n && !b->over && !b->nomem; i += 57) {
        size_t k = n - i < 57 ? n - i : 57;
        size_t o = b64(s + i, k, line);
        line[o++] = '\r';
        line[o++] = '\n';
        sb_add(b, line, o);
    }
}

/* The base64 size of n bytes in 76-column lines. */
static uint64_t b64_size(uint64_t n)
{
    return (n + 2) / 3 * 4 + (n + 56) / 57 * 2;
}

/* Quoted-printable (RFC 2045) of text: CRLF or LF are line breaks, soft breaks at 76. "=_"
 * never appears in the output ('=' is always "=3D" or a soft break), which keeps the
 * boundaries apart. */
static void sb_qp(sbuf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char line[96];
    size_t col = 0;
    for (size_t i = 0; i < n && !b->over && !b->nomem; i++) {
        uint8_t c = s[i];
        if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
            if (c == '\r')
                i++;
            line[col++] = '\r';
            line[col++] = '\n';
            sb_add(b, line, col);
            col = 0;
            continue;
        }
        int next_break = i + 1 == n || s[i + 1] == '\n' || s[i + 1] == '\r';
        int lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !next_break);
        size_t need = lit ? 1 : 3;
        if (col + need > 75) {
            line[col++] = '=';
            line[col++] = '\r';
            line[col++] = '\n';
            sb_add(b, line, col);
            col = 0;
        }
        if (lit) {
            line[col++] = (char)c;
        } else {
            line[col++] = '=';
            line[col++] = hex[c >> 4];
            line[col++] = hex[c & 15];
        }
    }
    if (col)
        sb_add(b, line, col);
    sb_str(b, "\r\n");
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* Control characters (CR, LF, NUL, ...) become spaces: a value stays on its header line. */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            *s = ' ';
}

/* Cut s to at most max bytes at a UTF-8 character boundary. */
static void cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    s[max] = 0;
}

/* A header value as RFC 2047 encoded words ("=?UTF-8?B?...?=", folded), or as it is when
 * ASCII. */
static void sb_word(sbuf *b, const char *s)
{
    if (is_ascii(s)) {
        sb_str(b, s);
        return;
    }
    size_t n = strlen(s), i = 0;
    char enc[64];
    while (i < n) {
        size_t k = n - i < 45 ? n - i : 45;
        while (i + k < n && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--; /* never split a character between two words */
        size_t o = b64((const uint8_t *)s + i, k, enc);
        if (i)
            sb_str(b, "\r\n ");
        sb_str(b, "=?UTF-8?B?");
        sb_add(b, enc, o);
        sb_str(b, "?=");
        i += k;
    }
}

/* A display name: encoded words when not ASCII, a quoted string when ASCII. */
static void sb_display(sbuf *b, const char *name)
{
    if (!is_ascii(name)) {
        sb_word(b, name);
        return;
    }
    sb_str(b, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_str(b, "\\");
        sb_add(b, p, 1);
    }
    sb_str(b, "\"");
}

/* "name" <addr>, or one of them. */
static void sb_mailbox(sbuf *b, const char *name, const char *addr)
{
    if (name && *name)
        sb_display(b, name);
    if (addr && *addr) {
        if (name && *name)
            sb_str(b, " ");
        sb_str(b, "<");
        sb_str(b, addr);
        sb_str(b, ">");
    }
}

/* A MIME parameter: name="value" when ASCII, name*=UTF-8''%XX (RFC 2231) when not. */
static void sb_param(sbuf *b, const char *param, const char *v)
{
    if (is_ascii(v)) {
        sb_fmt(b, "; %s=\"", param);
        for (const char *p = v; *p; p++) {
            if (*p == '"' || *p == '\\')
                sb_str(b, "\\");
            sb_add(b, p, 1);
        }
        sb_str(b, "\"");
        return;
    }
    sb_fmt(b, "; %s*=UTF-8''", param);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+-.^_`|~", *p))
            sb_add(b, p, 1);
        else
            sb_fmt(b, "%%%02X", *p);
    }
}

/* ---- libpff values ---- */

static void drop_err(libpff_error_t **e)
{
    if (*e)
        libpff_error_free(e);
}

/* A libpff error on one line: the outermost message, then the first cause when it differs
 * ("libpff_folder_get_sub_folder: ... (libpff_data_block_read: mismatch in CRC ...)"). */
static const char *err_text(libpff_error_t *e, char *buf, size_t len)
{
    char bt[1024];
    snprintf(buf, len, "corrupt data");
    if (!e || libpff_error_backtrace_sprint(e, bt, sizeof(bt)) <= 0)
        return buf;
    bt[sizeof(bt) - 1] = 0;
    size_t n = strlen(bt);
    while (n && (bt[n - 1] == '\n' || bt[n - 1] == '\r'))
        bt[--n] = 0;
    char *first_end = strchr(bt, '\n');
    char *last = strrchr(bt, '\n');
    if (first_end) {
        *first_end = 0;
        snprintf(buf, len, "%s (%s)", last + 1, bt);
    } else {
        snprintf(buf, len, "%s", bt);
    }
    clean(buf);
    return buf;
}

/* One property of record set `set` (the recipients table has one per recipient), through the
 * record-set API (the item_get_entry_value ones are deprecated). */
typedef struct prop {
    libpff_record_set_t *rs;   /* owned */
    libpff_record_entry_t *re; /* owned */
} prop;

static void prop_put(prop *p)
{
    libpff_error_t *e = NULL;
    if (p->re)
        libpff_record_entry_free(&p->re, &e);
    drop_err(&e);
    if (p->rs)
        libpff_record_set_free(&p->rs, &e);
    drop_err(&e);
}

static int prop_get(libpff_item_t *it, int set, uint32_t type, prop *p)
{
    libpff_error_t *e = NULL;
    p->rs = NULL;
    p->re = NULL;
    if (libpff_item_get_record_set_by_index(it, set, &p->rs, &e) != 1 || !p->rs ||
        libpff_record_set_get_entry_by_type(
            p->rs, type, 0, &p->re, LIBPFF_ENTRY_VALUE_FLAG_MATCH_ANY_VALUE_TYPE, &e) != 1 ||
        !p->re) {
        drop_err(&e);
        prop_put(p);
        return 0;
    }
    return 1;
}

/* A string property as UTF-8, owned by the caller; NULL when absent or longer than max. */
static char *item_str(libpff_item_t *it, int set, uint32_t type, size_t max)
{
    libpff_error_t *e = NULL;
    prop p;
    size_t n = 0;
    char *s = NULL;
    if (!prop_get(it, set, type, &p))
        return NULL;
    if (libpff_record_entry_get_data_as_utf8_string_size(p.re, &n, &e) != 1 || n == 0 || n > max)
        goto out;
    s = malloc(n + 1);
    if (s && libpff_record_entry_get_data_as_utf8_string(p.re, (uint8_t *)s, n, &e) != 1) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
out:
    drop_err(&e);
    prop_put(&p);
    return s;
}

static uint32_t item_u32(libpff_item_t *it, int set, uint32_t type, uint32_t dflt)
{
    libpff_error_t *e = NULL;
    prop p;
    uint32_t v = dflt;
    if (!prop_get(it, set, type, &p))
        return dflt;
    if (libpff_record_entry_get_data_as_32bit_integer(p.re, &v, &e) != 1)
        v = dflt;
    drop_err(&e);
    prop_put(&p);
    return v;
}

/* A binary property into buf; its size, 0 when absent or not between min and len bytes. */
static size_t item_bin(libpff_item_t *it, uint32_t type, uint8_t *buf, size_t min, size_t len)
{
    libpff_error_t *e = NULL;
    prop p;
    size_t n = 0;
    if (!prop_get(it, 0, type, &p))
        return 0;
    if (libpff_record_entry_get_data_size(p.re, &n, &e) != 1 || n < min || n > len ||
        libpff_record_entry_get_data(p.re, buf, n, &e) != 1)
        n = 0;
    drop_err(&e);
    prop_put(&p);
    return n;
}

/* A header value: the string, cleaned and cut to MAX_HEADER; "" when absent. Owned. */
static char *hdr_str(libpff_item_t *it, int set, uint32_t type)
{
    char *s = item_str(it, set, type, (size_t)64 << 10);
    if (!s)
        return NULL;
    clean(s);
    cut(s, MAX_HEADER);
    return s;
}

static uint64_t item_time(libpff_item_t *it, uint32_t type)
{
    libpff_error_t *e = NULL;
    prop p;
    uint64_t ft = 0;
    if (!prop_get(it, 0, type, &p))
        return 0;
    if (libpff_record_entry_get_data_as_filetime(p.re, &ft, &e) != 1)
        ft = 0;
    drop_err(&e);
    prop_put(&p);
    return ft;
}

/* FILETIME (100 ns since 1601) to seconds since the epoch; 0 when unknown or before 1970. */
static double ft_unix(uint64_t ft)
{
    const uint64_t delta = 116444736000000000ULL;
    return ft > delta ? (double)(ft - delta) / 1e7 : 0;
}

static void rfc5322_date(double t, char *out, size_t len)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || tm.tm_year > 8099) {
        out[0] = 0;
        return;
    }
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- the conversion ---- */

typedef struct pst_ctx {
    ab_unpack *u;
    libpff_file_t *file;
    sbuf out;
    uint32_t ipm_subtree; /* the NID of "Top of Personal Folders", 0 when unknown */
    unsigned folders;
    int stop;
    char path[PATH_LEN];
    uint8_t *chunk; /* owned: READ_BLOCK bytes of attachment data */
} pst_ctx;

typedef enum conv { CV_OK, CV_SKIP, CV_STOP } conv;

/* The boundary: random, with "=_" that quoted-printable and base64 never produce. */
static void new_boundary(char *out, size_t len, unsigned depth)
{
    uint8_t r[16];
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out ^ (uint64_t)clock();
        for (size_t i = 0; i < sizeof(r); i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            r[i] = (uint8_t)(x >> 56);
        }
    }
    int n = snprintf(out, len, "=_antibody_pst_%u_", depth);
    for (size_t i = 0; i < sizeof(r) && (size_t)n + 2 < len; i++, n += 2)
        snprintf(out + n, len - (size_t)n, "%02x", r[i]);
}

static size_t count_of(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;
    for (const char *p = s; n >= k && (p = memmem(p, n - (size_t)(p - s), needle, k)); p += k) {
        c++;
        if ((size_t)(p - s) + k > n)
            break;
    }
    return c;
}

/* Header names we write ourselves, or leave out of the transport headers. */
static int header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && line[k] == ':' && !strncasecmp(line, name, k);
}

static int is_field(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && line[i] > 32 && line[i] < 127 && line[i] != ':')
        i++;
    return i > 0 && i < n && line[i] == ':';
}

typedef struct seen {
    int from, to, cc, subject, date, msgid;
} seen;

/* The transport headers, line by line up to the first empty line, without the MIME lines of
 * the original (ours follow) and without what is no header field (Exchange's "Microsoft Mail
 * Internet Headers Version 2.0"). */
static void transport_headers(sbuf *b, const char *h, seen *sn)
{
    int keep = 0;
    const char *p = h;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t ln = n;
        if (ln && p[ln - 1] == '\r')
            ln--;
        if (ln == 0)
            break; /* the end of the header block */
        if (p[0] == ' ' || p[0] == '\t') {
            /* a continuation of the field before */
        } else if (is_field(p, ln)) {
            keep = !header_is(p, ln, "Content-Type") &&
                   !header_is(p, ln, "Content-Transfer-Encoding") &&
                   !header_is(p, ln, "MIME-Version");
            sn->from |= header_is(p, ln, "From");
            sn->to |= header_is(p, ln, "To");
            sn->cc |= header_is(p, ln, "Cc");
            sn->subject |= header_is(p, ln, "Subject");
            sn->date |= header_is(p, ln, "Date");
            sn->msgid |= header_is(p, ln, "Message-ID");
        } else {
            keep = 0;
        }
        if (keep) {
            for (size_t i = 0; i < ln; i++) /* a NUL or lone CR inside would end or split it */
                if (p[i] == 0 || p[i] == '\r')
                    keep = 0;
            if (keep) {
                sb_add(b, p, ln);
                sb_str(b, "\r\n");
            }
        }
        p += n + (e ? 1 : 0);
    }
}

/* The sender's address: SMTP first, then an address that looks like one, then what there is. */
static char *sender_addr(libpff_item_t *m)
{
    char *a = hdr_str(m, 0, PR_SENDER_SMTP_ADDRESS);
    if (a && strchr(a, '@'))
        return a;
    free(a);
    a = hdr_str(m, 0, PR_SENDER_EMAIL_ADDRESS);
    if (a && strchr(a, '@'))
        return a;
    char *r = hdr_str(m, 0, PR_SENT_REPR_EMAIL);
    if (r && strchr(r, '@')) {
        free(a);
        return r;
    }
    free(r);
    return a;
}

static void header_from(sbuf *b, libpff_item_t *m)
{
    char *name = hdr_str(m, 0, PR_SENDER_NAME);
    if (!name)
        name = hdr_str(m, 0, PR_SENT_REPR_NAME);
    char *addr = sender_addr(m);
    if ((name && *name) || (addr && *addr)) {
        sb_str(b, "From: ");
        sb_mailbox(b, name, addr);
        sb_str(b, "\r\n");
    }
    free(name);
    free(addr);
}

/* To and Cc (and Bcc) from the recipients table; the display lists when it has none. */
static void header_recipients(sbuf *b, libpff_item_t *m, const seen *sn)
{
    libpff_error_t *e = NULL;
    libpff_item_t *rc = NULL;
    int n = 0;
    static const char *const names[] = {"To", "Cc", "Bcc"};
    if (libpff_message_get_recipients(m, &rc, &e) == 1 && rc &&
        libpff_item_get_number_of_record_sets(rc, &n, &e) == 1 && n > 0) {
        if (n > MAX_RECIPIENTS)
            n = MAX_RECIPIENTS;
        for (uint32_t kind = 1; kind <= 3; kind++) {
            if ((kind == 1 && sn->to) || (kind == 2 && sn->cc))
                continue;
            int first = 1;
            size_t start = b->len;
            for (int i = 0; i < n; i++) {
                if (item_u32(rc, i, PR_RECIPIENT_TYPE, 1) != kind)
                    continue;
                char *name = hdr_str(rc, i, PR_DISPLAY_NAME);
                char *addr = hdr_str(rc, i, PR_SMTP_ADDRESS);
                if (!addr || !strchr(addr, '@')) {
                    free(addr);
                    addr = hdr_str(rc, i, PR_EMAIL_ADDRESS);
                }
                if ((name && *name) || (addr && *addr)) {
                    sb_str(b, first ? names[kind - 1] : ",\r\n ");
                    if (first)
                        sb_str(b, ": ");
                    sb_mailbox(b, name, addr);
                    first = 0;
                }
                free(name);
                free(addr);
            }
            if (b->len > start)
                sb_str(b, "\r\n");
        }
    } else {
        const uint32_t lists[] = {PR_DISPLAY_TO, PR_DISPLAY_CC};
        for (int k = 0; k < 2; k++) {
            if ((k == 0 && sn->to) || (k == 1 && sn->cc))
                continue;
            char *v = hdr_str(m, 0, lists[k]);
            if (v && *v) {
                sb_fmt(b, "%s: ", names[k]);
                sb_word(b, v);
                sb_str(b, "\r\n");
            }
            free(v);
        }
    }
    drop_err(&e);
    if (rc)
        libpff_item_free(&rc, &e);
    drop_err(&e);
}

/* The subject without the PST's prefix marker (0x01, then the prefix length). Owned or NULL. */
static char *subject_of(libpff_item_t *m)
{
    char *s = item_str(m, 0, PR_SUBJECT, (size_t)64 << 10);
    if (s && s[0] == 1 && s[1])
        memmove(s, s + 2, strlen(s + 2) + 1);
    if (s)
        clean(s);
    return s;
}

static double message_time(libpff_item_t *m, int submit_first)
{
    uint64_t a = item_time(m, submit_first ? PR_CLIENT_SUBMIT_TIME : PR_DELIVERY_TIME);
    uint64_t b = item_time(m, submit_first ? PR_DELIVERY_TIME : PR_CLIENT_SUBMIT_TIME);
    uint64_t c = item_time(m, PR_CREATION_TIME);
    return ft_unix(a ? a : b ? b : c);
}

static void headers(sbuf *b, libpff_item_t *m)
{
    seen sn = {0};
    char *th = item_str(m, 0, PR_TRANSPORT_HEADERS, b->max);
    if (th)
        transport_headers(b, th, &sn);
    free(th);
    if (!sn.from)
        header_from(b, m);
    header_recipients(b, m, &sn);
    if (!sn.subject) {
        char *s = subject_of(m);
        if (s) {
            cut(s, MAX_HEADER);
            sb_str(b, "Subject: ");
            sb_word(b, s);
            sb_str(b, "\r\n");
        }
        free(s);
    }
    if (!sn.date) {
        char d[64];
        double t = message_time(m, 1);
        if (t > 0) {
            rfc5322_date(t, d, sizeof(d));
            if (*d)
                sb_fmt(b, "Date: %s\r\n", d);
        }
    }
    if (!sn.msgid) {
        char *id = hdr_str(m, 0, PR_INTERNET_MESSAGE_ID);
        if (id && *id && is_ascii(id)) {
            int br = id[0] == '<';
            sb_fmt(b, "Message-ID: %s", br ? "" : "<");
            sb_str(b, id);
            sb_str(b, br ? "\r\n" : ">\r\n");
        }
        free(id);
    }
}

typedef int (*body_size_fn)(libpff_item_t *, size_t *, libpff_error_t **);
typedef int (*body_fn)(libpff_item_t *, uint8_t *, size_t, libpff_error_t **);

static const char *charset_of(uint32_t cp)
{
    switch (cp) {
    case 65001:
        return "utf-8";
    case 20127:
        return "us-ascii";
    case 28591:
        return "iso-8859-1";
    case 28592:
        return "iso-8859-2";
    case 28605:
        return "iso-8859-15";
    case 1250:
        return "windows-1250";
    case 1251:
        return "windows-1251";
    case 1252:
        return "windows-1252";
    case 932:
        return "shift_jis";
    case 936:
        return "gb2312";
    case 949:
        return "ks_c_5601-1987";
    case 950:
        return "big5";
    case 20866:
        return "koi8-r";
    default:
        return NULL;
    }
}

/* One body part (quoted-printable); CV_SKIP when the message does not fit. */
static conv body_part(pst_ctx *c, libpff_item_t *m, const char *bnd, const char *type,
                      const char *charset, body_size_fn size_fn, body_fn get_fn, int *parts,
                      const char *name)
{
    sbuf *b = &c->out;
    libpff_error_t *e = NULL;
    size_t n = 0;
    if (size_fn(m, &n, &e) != 1 || n == 0) {
        drop_err(&e);
        return CV_OK; /* no such body (a corrupt one is no reason to drop the message) */
    }
    /* quoted-printable is at most 3 times the text plus soft breaks */
    if (n > (b->max - b->len) / 3 || n > (size_t)1 << 40) {
        b->over = 1;
        return CV_SKIP;
    }
    uint8_t *t = malloc(n);
    if (!t) {
        b->nomem = 1;
        return CV_SKIP;
    }
    if (get_fn(m, t, n, &e) == 1) {
        while (n && t[n - 1] == 0) /* libpff ends text with a NUL */
            n--;
        sb_fmt(b, "--%s\r\nContent-Type: %s", bnd, type);
        if (charset)
            sb_fmt(b, "; charset=%s", charset);
        sb_str(b, "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        sb_qp(b, t, n);
        (*parts)++;
    } else {
        char why[256];
        ab_unpack_error(c->u, name, AB_ERR_PARSE, "%s body unreadable: %s", type,
                        err_text(e, why, sizeof(why)));
        drop_err(&e);
    }
    free(t);
    return b->over || b->nomem ? CV_SKIP : CV_OK;
}

/* The attachment's file name, cleaned and cut. Owned, never NULL unless out of memory. */
static char *attach_name(libpff_item_t *a, int index)
{
    char *s = hdr_str(a, 0, PR_ATTACH_LONG_FILENAME);
    if (!s || !*s) {
        free(s);
        s = hdr_str(a, 0, PR_ATTACH_FILENAME);
    }
    if (!s || !*s) {
        free(s);
        s = hdr_str(a, 0, PR_DISPLAY_NAME);
    }
    if (!s || !*s) {
        free(s);
        s = malloc(32);
        if (s)
            snprintf(s, 32, "attachment%d", index + 1);
    }
    if (s)
        cut(s, MAX_NAME);
    return s;
}

/* A MIME type that is type/subtype in token characters, else application/octet-stream. */
static const char *mime_type(char *t)
{
    if (!t || strlen(t) > 127)
        return "application/octet-stream";
    int slash = 0;
    for (char *p = t; *p; p++) {
        if (*p == '/')
            slash++;
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || strchr("!#$&^_.+-", *p)))
            return "application/octet-stream";
    }
    return slash == 1 && t[0] != '/' && t[strlen(t) - 1] != '/' ? t : "application/octet-stream";
}

static conv convert(pst_ctx *c, libpff_item_t *m, unsigned depth, const char *name);

/* One attachment as a part: data as base64, an embedded message as message/rfc822. */
static conv attachment_part(pst_ctx *c, libpff_item_t *a, int index, const char *bnd,
                            unsigned depth, const char *name)
{
    sbuf *b = &c->out;
    libpff_error_t *e = NULL;
    char why[256];
    int type = 0;
    conv rc = CV_OK;
    char *fname = NULL, *mt = NULL;
    if (libpff_attachment_get_type(a, &type, &e) != 1) {
        ab_unpack_error(c->u, name, AB_ERR_PARSE, "attachment %d unreadable: %s", index + 1,
                        err_text(e, why, sizeof(why)));
        goto out;
    }
    fname = attach_name(a, index);
    if (!fname) {
        b->nomem = 1;
        rc = CV_SKIP;
        goto out;
    }
    if (type == LIBPFF_ATTACHMENT_TYPE_ITEM) {
        libpff_item_t *inner = NULL;
        if (depth + 1 >= MAX_NEST) {
            ab_unpack_error(c->u, name, AB_ERR_PARSE,
                            "embedded messages nested deeper than %d: the rest left out", MAX_NEST);
            goto out;
        }
        if (libpff_attachment_get_item(a, &inner, &e) != 1 || !inner) {
            ab_unpack_error(c->u, name, AB_ERR_PARSE, "embedded message %d unreadable: %s",
                            index + 1, err_text(e, why, sizeof(why)));
            goto out;
        }
        sb_fmt(b, "--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment", bnd);
        sb_param(b, "filename", fname);
        sb_str(b, "\r\n\r\n");
        rc = convert(c, inner, depth + 1, name);
        sb_str(b, "\r\n");
        libpff_item_free(&inner, &e);
        goto out;
    }
    if (type != LIBPFF_ATTACHMENT_TYPE_DATA)
        goto out; /* a reference (a link to a file elsewhere): no bytes here */
    size64_t size = 0;
    if (libpff_attachment_get_data_size(a, &size, &e) != 1) {
        ab_unpack_error(c->u, name, AB_ERR_PARSE, "attachment %s unreadable: %s", fname,
                        err_text(e, why, sizeof(why)));
        goto out;
    }
    if (b64_size(size) + 1024 > b->max - b->len) {
        b->over = 1;
        rc = CV_SKIP;
        goto out;
    }
    mt = hdr_str(a, 0, PR_ATTACH_MIME_TAG);
    sb_fmt(b, "--%s\r\nContent-Type: %s", bnd, mime_type(mt));
    if (is_ascii(fname))
        sb_param(b, "name", fname);
    sb_str(b, "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment");
    sb_param(b, "filename", fname);
    sb_str(b, "\r\n\r\n");
    uint64_t done = 0;
    if (size && libpff_attachment_data_seek_offset(a, 0, SEEK_SET, &e) < 0) {
        ab_unpack_error(c->u, name, AB_ERR_PARSE, "attachment %s unreadable: %s", fname,
                        err_text(e, why, sizeof(why)));
        goto out;
    }
    while (done < size && !b->over && !b->nomem) {
        size_t want = size - done < READ_BLOCK ? (size_t)(size - done) : READ_BLOCK;
        ssize_t got = libpff_attachment_data_read_buffer(a, c->chunk, want, &e);
        if (got <= 0) {
            if (got < 0)
                ab_unpack_error(c->u, name, AB_ERR_PARSE, "attachment %s cut short: %s", fname,
                                err_text(e, why, sizeof(why)));
            break;
        }
        if ((size_t)got > want)
            got = (ssize_t)want;
        /* a short read mid-way would misalign the 57-byte lines: fine for base64 readers, but
         * keep the lines whole by encoding each read as it comes (57 divides READ_BLOCK) */
        sb_b64_lines(b, c->chunk, (size_t)got);
        done += (uint64_t)got;
        ab_room room = ab_unpack_check(c->u, name, b->len, 0);
        if (room != AB_ROOM_OK) {
            rc = room == AB_ROOM_STOP ? CV_STOP : CV_SKIP;
            b->over = 0; /* already said by ab_unpack_check */
            goto out_checked;
        }
    }
out:
    if (rc == CV_OK && (b->over || b->nomem))
        rc = CV_SKIP;
out_checked:
    drop_err(&e);
    free(fname);
    free(mt);
    return rc;
}

/* Message m as MIME into c->out at its end. */
static conv convert_once(pst_ctx *c, libpff_item_t *m, unsigned depth, const char *name,
                         const char *bnd, size_t *delims)
{
    sbuf *b = &c->out;
    libpff_error_t *e = NULL;
    int parts = 0;
    conv rc;
    headers(b, m);
    sb_fmt(b, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd);
    uint32_t cp = item_u32(m, 0, PR_INTERNET_CODEPAGE, 0);
    rc = body_part(c, m, bnd, "text/plain", "utf-8", libpff_message_get_plain_text_body_size,
                   libpff_message_get_plain_text_body, &parts, name);
    if (rc == CV_OK)
        rc = body_part(c, m, bnd, "text/html", charset_of(cp), libpff_message_get_html_body_size,
                       libpff_message_get_html_body, &parts, name);
    if (rc == CV_OK)
        rc = body_part(c, m, bnd, "text/rtf", NULL, libpff_message_get_rtf_body_size,
                       libpff_message_get_rtf_body, &parts, name);
    if (rc != CV_OK)
        return rc;
    int na = 0;
    if (libpff_message_get_number_of_attachments(m, &na, &e) != 1)
        na = 0;
    drop_err(&e);
    if (na > MAX_ATTACHMENTS) {
        ab_unpack_error(c->u, name, AB_ERR_PARSE, "%d attachments: only the first %d read", na,
                        MAX_ATTACHMENTS);
        na = MAX_ATTACHMENTS;
    }
    for (int i = 0; i < na && rc == CV_OK; i++) {
        libpff_item_t *a = NULL;
        if (libpff_message_get_attachment(m, i, &a, &e) != 1 || !a) {
            char why[256];
            ab_unpack_error(c->u, name, AB_ERR_PARSE, "attachment %d unreadable: %s", i + 1,
                            err_text(e, why, sizeof(why)));
            drop_err(&e);
            continue;
        }
        size_t before = b->len;
        rc = attachment_part(c, a, i, bnd, depth, name);
        if (b->len > before)
            parts++;
        libpff_item_free(&a, &e);
        drop_err(&e);
    }
    if (rc != CV_OK)
        return rc;
    if (!parts) { /* a multipart needs one part */
        sb_fmt(b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n", bnd);
        parts++;
    }
    sb_fmt(b, "--%s--\r\n", bnd);
    *delims = (size_t)parts + 1;
    return b->over || b->nomem ? CV_SKIP : CV_OK;
}

/* Convert with a boundary that occurs nowhere else in the text: once in the Content-Type
 * header and once in each delimiter we wrote, else it is built again with another. */
static conv convert(pst_ctx *c, libpff_item_t *m, unsigned depth, const char *name)
{
    sbuf *b = &c->out;
    size_t start = b->len;
    for (int t = 0; t < BOUNDARY_TRIES; t++) {
        char bnd[80];
        size_t delims = 0;
        new_boundary(bnd, sizeof(bnd), depth);
        conv rc = convert_once(c, m, depth, name, bnd, &delims);
        if (rc != CV_OK)
            return rc;
        if (count_of(b->p + start, b->len - start, bnd) == delims + 1)
            return CV_OK;
        b->len = start; /* the content has it: again with another */
    }
    ab_unpack_error(c->u, name, AB_ERR_PARSE, "no MIME boundary found that the message lacks");
    return CV_SKIP;
}

/* "<folder path>/<subject> (<YYYY-MM-DD>)" */
static void member_name(pst_ctx *c, libpff_item_t *m, char *out, size_t len, double *mtime)
{
    char *s = subject_of(m);
    if (s)
        cut(s, MAX_NAME);
    *mtime = message_time(m, 0);
    char date[32] = "";
    if (*mtime > 0) {
        time_t t = (time_t)*mtime;
        struct tm tm;
        if (gmtime_r(&t, &tm) && tm.tm_year <= 8099)
            snprintf(date, sizeof(date), " (%04d-%02d-%02d)", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
    }
    snprintf(out, len, "%s%s%s%s", c->path, *c->path ? "/" : "", s && *s ? s : "(no subject)",
             date);
    free(s);
}

static void message(pst_ctx *c, libpff_item_t *m)
{
    char name[PATH_LEN + MAX_NAME + 64];
    double mtime;
    member_name(c, m, name, sizeof(name), &mtime);
    c->out.len = 0;
    c->out.over = c->out.nomem = 0;
    c->out.max = (size_t)ab_unpack_max_member(c->u);
    conv rc = convert(c, m, 0, name);
    if (c->out.nomem) {
        ab_unpack_error(c->u, name, AB_ERR_NOMEM, "out of memory converting this message");
        return;
    }
    if (rc == CV_SKIP && c->out.over) {
        /* over the member limit: say so (a limit finding) with the size it would pass */
        uint64_t m1 = (uint64_t)c->out.max + 1;
        if (ab_unpack_check(c->u, name, m1, 0) == AB_ROOM_STOP)
            c->stop = 1;
        return;
    }
    if (rc == CV_STOP) {
        c->stop = 1;
        return;
    }
    if (rc != CV_OK)
        return;
    ab_room room = ab_unpack_check(c->u, name, c->out.len, 0);
    if (room == AB_ROOM_STOP) {
        c->stop = 1;
        return;
    }
    if (room != AB_ROOM_OK)
        return;
    ab_member mb = {.name = name,
                    .data = (const uint8_t *)c->out.p,
                    .size = c->out.len,
                    .mtime = mtime,
                    .source = "pst",
                    .parent = "PST"};
    if (ab_unpack_member(c->u, &mb))
        c->stop = 1;
}

static void folder(pst_ctx *c, libpff_item_t *f, unsigned depth);

static void sub_folder(pst_ctx *c, libpff_item_t *sf, unsigned depth)
{
    libpff_error_t *e = NULL;
    uint32_t id = 0;
    if (libpff_item_get_identifier(sf, &id, &e) != 1)
        id = 0;
    drop_err(&e);
    size_t plen = strlen(c->path);
    if (!(depth == 1 && c->ipm_subtree && id == c->ipm_subtree)) {
        char *n = item_str(sf, 0, PR_DISPLAY_NAME, (size_t)64 << 10);
        if (n) {
            clean(n);
            cut(n, MAX_NAME);
        }
        snprintf(c->path + plen, sizeof(c->path) - plen, "%s%s", plen ? "/" : "",
                 n && *n ? n : "(no name)");
        free(n);
    }
    folder(c, sf, depth);
    c->path[plen] = 0;
}

static void folder(pst_ctx *c, libpff_item_t *f, unsigned depth)
{
    libpff_error_t *e = NULL;
    char why[256];
    if (++c->folders > MAX_FOLDERS) {
        if (c->folders == MAX_FOLDERS + 1)
            ab_unpack_error(c->u, NULL, AB_ERR_PARSE, "more than %d folders: the rest left out",
                            MAX_FOLDERS);
        return;
    }
    int nm = 0, errors = 0;
    if (libpff_folder_get_number_of_sub_messages(f, &nm, &e) != 1) {
        ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                        "folder's messages unreadable: %s", err_text(e, why, sizeof(why)));
        drop_err(&e);
        nm = 0;
    }
    if (nm > MAX_MESSAGES)
        nm = MAX_MESSAGES;
    for (int i = 0; i < nm && !c->stop && !ab_unpack_stopped(c->u); i++) {
        libpff_item_t *m = NULL;
        if (libpff_folder_get_sub_message(f, i, &m, &e) != 1 || !m) {
            ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                            "message %d unreadable: %s", i + 1, err_text(e, why, sizeof(why)));
            drop_err(&e);
            if (++errors == MAX_ERRORS) { /* a hostile table of a million broken rows */
                ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                                "%d messages unreadable: the rest of this folder left out",
                                MAX_ERRORS);
                break;
            }
            continue;
        }
        message(c, m);
        libpff_item_free(&m, &e);
        drop_err(&e);
    }
    int ns = 0;
    errors = 0;
    if (libpff_folder_get_number_of_sub_folders(f, &ns, &e) != 1) {
        ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE, "sub-folders unreadable: %s",
                        err_text(e, why, sizeof(why)));
        drop_err(&e);
        ns = 0;
    }
    if (ns > 0 && depth + 1 > MAX_DEPTH) {
        ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                        "folders nested deeper than %d: the rest left out", MAX_DEPTH);
        return;
    }
    for (int i = 0; i < ns && !c->stop && !ab_unpack_stopped(c->u); i++) {
        libpff_item_t *sf = NULL;
        if (libpff_folder_get_sub_folder(f, i, &sf, &e) != 1 || !sf) {
            ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                            "sub-folder %d unreadable: %s", i + 1, err_text(e, why, sizeof(why)));
            drop_err(&e);
            if (++errors == MAX_ERRORS) {
                ab_unpack_error(c->u, *c->path ? c->path : NULL, AB_ERR_PARSE,
                                "%d sub-folders unreadable: the rest left out", MAX_ERRORS);
                break;
            }
            continue;
        }
        sub_folder(c, sf, depth + 1);
        libpff_item_free(&sf, &e);
        drop_err(&e);
    }
}

/* Items libpff found in the file outside the folder tree (their folder is gone: a deleted
 * folder whose messages were not purged), named "(orphan)/...": messages, and folders with
 * their own tree. Attachments, recipient sets and other parts are left to their messages. */
static void orphans(pst_ctx *c)
{
    libpff_error_t *e = NULL;
    int n = 0;
    if (libpff_file_get_number_of_orphan_items(c->file, &n, &e) != 1)
        n = 0;
    drop_err(&e);
    if (n > MAX_MESSAGES)
        n = MAX_MESSAGES;
    for (int i = 0; i < n && !c->stop && !ab_unpack_stopped(c->u); i++) {
        libpff_item_t *it = NULL;
        uint8_t type = 0;
        if (libpff_file_get_orphan_item_by_index(c->file, i, &it, &e) != 1 || !it ||
            libpff_item_get_type(it, &type, &e) != 1)
            type = LIBPFF_ITEM_TYPE_UNDEFINED;
        drop_err(&e);
        snprintf(c->path, sizeof(c->path), "(orphan)");
        switch (type) {
        case LIBPFF_ITEM_TYPE_UNDEFINED:
        case LIBPFF_ITEM_TYPE_UNKNOWN:
        case LIBPFF_ITEM_TYPE_ATTACHMENT:
        case LIBPFF_ITEM_TYPE_ATTACHMENTS:
        case LIBPFF_ITEM_TYPE_RECIPIENTS:
        case LIBPFF_ITEM_TYPE_SUB_ASSOCIATED_CONTENTS:
        case LIBPFF_ITEM_TYPE_SUB_FOLDERS:
        case LIBPFF_ITEM_TYPE_SUB_MESSAGES:
            break;
        case LIBPFF_ITEM_TYPE_FOLDER:
            sub_folder(c, it, 1);
            break;
        default:
            message(c, it);
        }
        if (it)
            libpff_item_free(&it, &e);
        drop_err(&e);
    }
    c->path[0] = 0;
}

/* The NID of the IPM subtree from the message store's entry id (flags, provider, NID). */
static uint32_t ipm_subtree(libpff_file_t *file)
{
    libpff_error_t *e = NULL;
    libpff_item_t *st = NULL;
    uint32_t nid = 0;
    uint8_t eid[64];
    if (libpff_file_get_message_store(file, &st, &e) == 1 && st &&
        item_bin(st, PR_IPM_SUBTREE_ENTRYID, eid, 24, sizeof(eid)))
        nid = (uint32_t)eid[20] | (uint32_t)eid[21] << 8 | (uint32_t)eid[22] << 16 |
              (uint32_t)eid[23] << 24;
    drop_err(&e);
    if (st)
        libpff_item_free(&st, &e);
    drop_err(&e);
    return nid;
}

/* ---- the input as a libbfio handle ----
 * Our own read-only memory handle rather than libbfio_memory_range: libbfio 20170123 (Debian 12)
 * memory_range_read copies the size asked for, not the size left, so a read that crosses the
 * end of the range (any truncated or mangled PST) reads past the buffer (found by fuzz_pst). */
typedef struct mem_io {
    const uint8_t *data; /* borrowed: the object being unpacked */
    size_t size, off;
    int open;
} mem_io;

static int mem_free(intptr_t **io, libbfio_error_t **e)
{
    (void)e;
    free(*io);
    *io = NULL;
    return 1;
}

static int mem_clone(intptr_t **dst, intptr_t *src, libbfio_error_t **e)
{
    (void)e;
    mem_io *n = malloc(sizeof(*n));
    if (!n)
        return -1;
    *n = *(mem_io *)src;
    n->off = 0;
    n->open = 0;
    *dst = (intptr_t *)n;
    return 1;
}

static int mem_open(intptr_t *io, int flags, libbfio_error_t **e)
{
    (void)e;
    if (flags & ~LIBBFIO_ACCESS_FLAG_READ)
        return -1; /* read only */
    ((mem_io *)io)->open = 1;
    ((mem_io *)io)->off = 0;
    return 1;
}

static int mem_close(intptr_t *io, libbfio_error_t **e)
{
    (void)e;
    ((mem_io *)io)->open = 0;
    return 0;
}

static ssize_t mem_read(intptr_t *io, uint8_t *buf, size_t n, libbfio_error_t **e)
{
    (void)e;
    mem_io *m = (mem_io *)io;
    if (!m->open || !buf || n > SSIZE_MAX)
        return -1;
    if (m->off >= m->size)
        return 0;
    size_t k = m->size - m->off < n ? m->size - m->off : n;
    memcpy(buf, m->data + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

static ssize_t mem_write(intptr_t *io, const uint8_t *buf, size_t n, libbfio_error_t **e)
{
    (void)io, (void)buf, (void)n, (void)e;
    return -1;
}

static off64_t mem_seek(intptr_t *io, off64_t off, int whence, libbfio_error_t **e)
{
    (void)e;
    mem_io *m = (mem_io *)io;
    off64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? (off64_t)m->off
                   : whence == SEEK_END ? (off64_t)m->size
                                        : -1;
    if (base < 0 || (off > 0 && off > INT64_MAX - base) || base + off < 0)
        return -1;
    if ((uint64_t)(base + off) > SIZE_MAX)
        return -1;
    m->off = (size_t)(base + off); /* past the end is allowed: reads then return 0 */
    return base + off;
}

static int mem_exists(intptr_t *io, libbfio_error_t **e)
{
    (void)io, (void)e;
    return 1;
}

static int mem_is_open(intptr_t *io, libbfio_error_t **e)
{
    (void)e;
    return ((mem_io *)io)->open;
}

static int mem_size(intptr_t *io, size64_t *size, libbfio_error_t **e)
{
    (void)e;
    *size = ((mem_io *)io)->size;
    return 1;
}

/* A libbfio handle over data; it owns its mem_io. NULL when out of memory. */
static libbfio_handle_t *mem_handle(const uint8_t *data, size_t size)
{
    libbfio_handle_t *h = NULL;
    libbfio_error_t *e = NULL;
    mem_io *m = malloc(sizeof(*m));
    if (!m)
        return NULL;
    *m = (mem_io){.data = data, .size = size};
    if (libbfio_handle_initialize(&h, (intptr_t *)m, mem_free, mem_clone, mem_open, mem_close,
                                  mem_read, mem_write, mem_seek, mem_exists, mem_is_open, mem_size,
                                  LIBBFIO_FLAG_IO_HANDLE_MANAGED, &e) != 1) {
        if (e)
            libbfio_error_free(&e);
        free(m);
        return NULL;
    }
    return h;
}

static int pst_claims(const uint8_t *d, size_t n)
{
    if (n < 512 || memcmp(d, "!BDN", 4) != 0)
        return 0;
    int client = (d[8] == 'S' && d[9] == 'M') || (d[8] == 'S' && d[9] == 'O');
    unsigned ver = (unsigned)d[10] | (unsigned)d[11] << 8;
    return client && (ver == 14 || ver == 15 || ver == 23 || ver == 36);
}

static ab_status pst_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    pst_ctx c = {.u = u};
    libbfio_handle_t *h = NULL;
    libbfio_error_t *be = NULL;
    libpff_error_t *e = NULL;
    libpff_item_t *root = NULL;
    ab_status st = AB_OK;
    char why[256];
    int opened = 0;
    c.chunk = malloc(READ_BLOCK);
    if (!c.chunk) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "pst: out of memory");
        return AB_ERR_NOMEM;
    }
    h = mem_handle(data, size);
    if (!h) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "pst: cannot set up a memory handle");
        st = AB_ERR_NOMEM;
        goto out;
    }
    if (libpff_file_initialize(&c.file, &e) != 1) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "pst: cannot initialise libpff");
        st = AB_ERR_NOMEM;
        goto out;
    }
    if (libpff_file_open_file_io_handle(c.file, h, LIBPFF_OPEN_READ, &e) != 1) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "pst: cannot open: %s",
                        err_text(e, why, sizeof(why)));
        st = AB_ERR_PARSE;
        goto out;
    }
    opened = 1;
    ab_unpack_name_members(u, "pst", "PST");
    c.ipm_subtree = ipm_subtree(c.file);
    int r = libpff_file_get_root_folder(c.file, &root, &e);
    if (r != 1 || !root) {
        if (r == 0)
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "pst: no root folder (truncated or corrupt)");
        else
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "pst: no root folder: %s",
                            err_text(e, why, sizeof(why)));
        st = AB_ERR_PARSE;
        goto out;
    }
    folder(&c, root, 0);
    orphans(&c);
out:
    drop_err(&e);
    if (root)
        libpff_item_free(&root, &e);
    drop_err(&e);
    if (opened)
        libpff_file_close(c.file, &e);
    drop_err(&e);
    if (c.file)
        libpff_file_free(&c.file, &e);
    drop_err(&e);
    if (h)
        libbfio_handle_free(&h, &be);
    if (be)
        libbfio_error_free(&be);
    free(c.out.p);
    free(c.chunk);
    return st;
}

const ab_source ab_source_pst = {
    .name = "pst",
    .parent = "PST",
    .claims = pst_claims,
    .run = pst_run,
};
