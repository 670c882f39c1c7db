/* mime.c: mail as a source. Two sources share this file:
 *   - "mime": one RFC 5322 message (an .eml, a Maildir file, a message of an mbox, a
 *     message/rfc822 part, a message a PST or TNEF source wrote out). GMime parses it; every
 *     leaf part becomes a member (transfer encodings decoded, inline text converted to UTF-8),
 *     a message/rfc822 part a member that is a message again. The message itself gets its mail
 *     info (ab_unpack_set_mail), its addresses and URLs as observables and its header-level
 *     phishing signals (docs/mail-signals.md).
 *   - "mbox": an mbox file (mboxo/mboxrd), split at "From " lines by our own bounded scanner;
 *     each message is a member "#N <message-id>", which the mime source then claims.
 * Safety: GMime gets a copy of the message bytes in memory (never a path), bounded by the member
 * size limit; GMime itself bounds MIME nesting (GMIME_CRIT_NESTING_OVERFLOW). Our walk over the
 * parsed tree is bounded in depth and in parts; decoded sizes never exceed the encoded part
 * (charset conversion at most 4x, checked with ab_unpack_check). */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match/domain.h"
#include "unpack/mailsig.h"
#include "unpack/unpack.h"

#define MAX_PARTS                                                                                  \
    20000                         /* parts of one message we read (the rest: one error); past      \
                                   * --max-members (10000) the member limit stops first */
#define MAX_WALK_DEPTH  1024      /* multipart levels we descend (GMime stops earlier) */
#define MAX_HEADER_SCAN (1 << 20) /* bytes of header looked at by claims() */
#define MAX_TEXT_SCAN   (1 << 20) /* bytes of a text body searched for URLs and passwords */
#define MAX_RECEIVED    64        /* Received headers looked at */

/* ---- claims: is this a message? ---- */

static int is_field_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != ':';
}

/* Known header names (lower case) that say "mail", and how strongly. */
static int mail_header_weight(const char *name, size_t n)
{
    static const struct {
        const char *name;
        int weight; /* 2: only mail has it; 1: mail and others (HTTP, news) */
    } known[] = {
        {"from", 2},
        {"message-id", 2},
        {"received", 2},
        {"return-path", 2},
        {"delivered-to", 2},
        {"subject", 1},
        {"to", 1},
        {"cc", 1},
        {"date", 1},
        {"mime-version", 1},
        {"reply-to", 2},
        {"sender", 1},
        {"x-mailer", 1},
        {"dkim-signature", 2},
        {"authentication-results", 2},
        {"in-reply-to", 2},
        {"references", 1},
        {"content-type", 0},
        {"thread-index", 2},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == n && !strncasecmp(known[i].name, name, n))
            return known[i].weight;
    return -1;
}

/* The header block at the start of data, as a mail parser would read it: every line a field
 * ("Name: value") or a continuation, up to a blank line (or the end). 1 when it looks like mail:
 * a From, Message-ID, Received, Return-Path or Delivered-To field and at least three known
 * fields. Looks at most MAX_HEADER_SCAN bytes; no allocation. */
static int looks_like_message(const uint8_t *d, size_t size)
{
    size_t lim = size < MAX_HEADER_SCAN ? size : MAX_HEADER_SCAN, i = 0;
    int strong = 0, known = 0, fields = 0;
    while (i < lim) {
        if (d[i] == '\n' || (d[i] == '\r' && i + 1 < lim && d[i + 1] == '\n'))
            return fields > 0 && strong && known >= 3; /* the blank line: end of the header */
        if (d[i] == ' ' || d[i] == '\t') {
            if (!fields)
                return 0;
        } else {
            /* The field name first: a file that is not mail fails here, on its first bytes. */
            size_t k = i;
            while (k < lim && k - i <= 76 && is_field_char(d[k]))
                k++;
            if (k == i || k >= lim || d[k] != ':' || k - i > 76)
                return 0;
            int w = mail_header_weight((const char *)d + i, k - i);
            if (w == 2)
                strong = 1;
            if (w >= 0)
                known++;
            fields++;
        }
        const uint8_t *nl = memchr(d + i, '\n', lim - i);
        if (!nl)
            break;
        i = (size_t)(nl - d) + 1;
    }
    /* The end of the data, or MAX_HEADER_SCAN of nothing but header fields: a header can be made
     * huge to push the attachments out of a scanner's view. */
    return fields > 0 && strong && known >= 3;
}

static int mime_claims(const uint8_t *data, size_t size)
{
    return size > 8 && looks_like_message(data, size);
}

/* ---- the message source ---- */

typedef struct part_ref {
    GMimeObject *obj; /* borrowed from the message tree */
    char path[48];    /* "1", "2.1" */
} part_ref;

typedef struct msg_ctx {
    ab_unpack *u;
    GMimeMessage *msg;
    part_ref *parts; /* owned */
    size_t n_parts, cap_parts;
    int too_many; /* parts past MAX_PARTS, or nesting past MAX_WALK_DEPTH, left out */
    int cut;      /* GMime read only a prefix (parse_limit) */
    int crit;     /* GMime warned of a critical problem */
    char crit_msg[160];
    char from_domain[AB_MAX_DOMAIN + 1]; /* registered domain of the From address, "" if none */
    int has_encrypted_archive;
    int password_found;
} msg_ctx;

static void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                              gpointer user)
{
    msg_ctx *m = user;
    if (code < GMIME_CRIT_INVALID_HEADER_NAME || m->crit)
        return;
    m->crit = 1;
    static const char *const what[] = {
        [GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
        [GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
        [GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting header parameter",
        [GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without a boundary",
        [GMIME_CRIT_NESTING_OVERFLOW] = "MIME nesting too deep",
        [GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
    };
    const char *w =
        (size_t)code < sizeof(what) / sizeof(what[0]) && what[code] ? what[code] : "malformed";
    (void)item;
    snprintf(m->crit_msg, sizeof(m->crit_msg), "%s at byte %lld", w, (long long)offset);
}

static void add_part(msg_ctx *m, GMimeObject *obj, const char *path)
{
    if (m->n_parts >= MAX_PARTS) {
        m->too_many = 1;
        return;
    }
    if (m->n_parts == m->cap_parts) {
        size_t cap = m->cap_parts ? m->cap_parts * 2 : 16;
        part_ref *p = realloc(m->parts, cap * sizeof(*p));
        if (!p) {
            m->too_many = 1;
            return;
        }
        m->parts = p;
        m->cap_parts = cap;
    }
    part_ref *r = &m->parts[m->n_parts++];
    r->obj = obj;
    snprintf(r->path, sizeof(r->path), "%s", path);
}

/* Collect leaf parts and message/rfc822 parts in document order. Recursion is bounded by
 * MAX_WALK_DEPTH (and GMime's own nesting limit). */
static void collect(msg_ctx *m, GMimeObject *obj, const char *path, unsigned depth)
{
    if (!obj || m->too_many)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        if (depth >= MAX_WALK_DEPTH) {
            m->too_many = 1; /* this subtree is left out, its siblings are not */
            return;
        }
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
        for (int i = 0; i < n && !m->too_many; i++) {
            char sub[48];
            if (path[0])
                snprintf(sub, sizeof(sub), "%s.%d", path, i + 1);
            else
                snprintf(sub, sizeof(sub), "%d", i + 1);
            collect(m, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), sub, depth + 1);
        }
        return;
    }
    add_part(m, obj, path[0] ? path : "1");
}

/* ---- header values ---- */

/* The first mailbox address of a list, or NULL. */
static const char *first_addr(InternetAddressList *l, const char **name)
{
    if (name)
        *name = NULL;
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

/* The registered domain of an address into out ("" when none). */
static void addr_domain(const char *addr, char *out, size_t cap)
{
    out[0] = '\0';
    if (!addr)
        return;
    size_t dl = 0;
    const char *d = ab_email_domain(addr, strlen(addr), &dl);
    if (d)
        ab_registered_domain(d, dl, out, cap);
}

/* Observe every mailbox of a list as "email" in "mail.header". */
static void observe_list(ab_unpack *u, InternetAddressList *l)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n && i < 256; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a && *a)
                ab_unpack_observe(u, "email", "mail.header", a, strlen(a));
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressList *g = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            int gn = g ? internet_address_list_length(g) : 0;
            for (int k = 0; k < gn && k < 256; k++) {
                InternetAddress *ga = internet_address_list_get_address(g, k);
                if (!INTERNET_ADDRESS_IS_MAILBOX(ga))
                    continue;
                const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ga));
                if (a && *a)
                    ab_unpack_observe(u, "email", "mail.header", a, strlen(a));
            }
        }
    }
}

/* IP literals in a Received header: "[192.0.2.1]", "[IPv6:2001:db8::1]", "(host [ip])". */
static void observe_received_ips(ab_unpack *u, const char *v)
{
    for (const char *p = v; (p = strchr(p, '[')) != NULL; p++) {
        /* An address literal is short: look for its ']' within 70 bytes only (a header of a
         * million '[' must not cost a million searches to its end). */
        const char *q = memchr(p + 1, ']', strnlen(p + 1, 70));
        if (!q)
            continue;
        const char *ip = p + 1;
        size_t n = (size_t)(q - ip);
        if (n > 5 && !strncasecmp(ip, "IPv6:", 5)) {
            ip += 5;
            n -= 5;
        }
        if (n && n < 64 && ab_host_is_ip(ip, n))
            ab_unpack_observe(u, "ip", "mail.header", ip, n);
    }
}

static char *list_string(InternetAddressList *a, InternetAddressList *b)
{
    char *sa = a && internet_address_list_length(a)
                   ? internet_address_list_to_string(a, NULL, FALSE)
                   : NULL;
    char *sb = b && internet_address_list_length(b)
                   ? internet_address_list_to_string(b, NULL, FALSE)
                   : NULL;
    if (sa && sb) {
        char *j = g_strconcat(sa, ", ", sb, NULL);
        g_free(sa);
        g_free(sb);
        return j;
    }
    return sa ? sa : sb;
}

/* The mail info of the message, set on the container; observables of its header. */
static void message_info(msg_ctx *m)
{
    GMimeMessage *msg = m->msg;
    ab_mail_info info;
    memset(&info, 0, sizeof(info));
    info.message_id = g_mime_message_get_message_id(msg);
    info.date = g_mime_object_get_header(GMIME_OBJECT(msg), "Date");
    GDateTime *dt = g_mime_message_get_date(msg);
    if (dt)
        info.date_epoch = (double)g_date_time_to_unix(dt);
    InternetAddressList *from = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_FROM);
    char *from_s = from && internet_address_list_length(from)
                       ? internet_address_list_to_string(from, NULL, FALSE)
                       : NULL;
    char *to_s = list_string(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
                             g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC));
    info.from = from_s;
    info.to = to_s;
    info.subject = g_mime_message_get_subject(msg);
    ab_unpack_set_mail(m->u, &info);
    g_free(from_s);
    g_free(to_s);
    addr_domain(first_addr(from, NULL), m->from_domain, sizeof(m->from_domain));

    static const GMimeAddressType types[] = {GMIME_ADDRESS_TYPE_FROM,     GMIME_ADDRESS_TYPE_SENDER,
                                             GMIME_ADDRESS_TYPE_REPLY_TO, GMIME_ADDRESS_TYPE_TO,
                                             GMIME_ADDRESS_TYPE_CC,       GMIME_ADDRESS_TYPE_BCC};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        observe_list(m->u, g_mime_message_get_addresses(msg, types[i]));
    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    int nh = hl ? g_mime_header_list_get_count(hl) : 0, received = 0;
    for (int i = 0; i < nh; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h), *v = g_mime_header_get_value(h);
        if (!name || !v)
            continue;
        if (!strcasecmp(name, "Received") && received++ < MAX_RECEIVED)
            observe_received_ips(m->u, v);
        else if (!strcasecmp(name, "Return-Path")) {
            InternetAddressList *rp = internet_address_list_parse(NULL, v);
            observe_list(m->u, rp);
            if (rp)
                g_object_unref(rp);
        }
    }
}

/* ---- parts ---- */

/* Decoded content of a leaf part (transfer encoding undone; inline text converted to UTF-8 when
 * to_utf8) as a GByteArray owned by the returned stream; NULL when it cannot be read. */
static GMimeStream *decode_part(GMimePart *part, int to_utf8)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w)
        return NULL;
    /* Decoding never grows the bytes (base64, quoted-printable, uuencode): the encoded length is
     * room enough, and saves the growing array's copies. Charset conversion may grow it. */
    GMimeStream *src = g_mime_data_wrapper_get_stream(w);
    gint64 enc = src ? g_mime_stream_length(src) : -1;
    GByteArray *ba = g_byte_array_sized_new(enc > 0 && enc < (1 << 30) ? (guint)enc + 16 : 256);
    GMimeStream *out = g_mime_stream_mem_new_with_byte_array(ba); /* owns ba */
    GMimeStream *dst = out;
    GMimeStream *filt = NULL;
    if (to_utf8) {
        GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
        const char *cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
        if (cs && strcasecmp(cs, "utf-8") && strcasecmp(cs, "us-ascii")) {
            GMimeFilter *cf = g_mime_filter_charset_new(cs, "UTF-8");
            if (cf) {
                filt = g_mime_stream_filter_new(out);
                g_mime_stream_filter_add(GMIME_STREAM_FILTER(filt), cf);
                g_object_unref(cf);
                dst = filt;
            }
        }
    }
    ssize_t n = g_mime_data_wrapper_write_to_stream(w, dst);
    if (filt) {
        g_mime_stream_flush(filt);
        g_object_unref(filt);
    }
    if (n < 0) {
        g_object_unref(out);
        return NULL;
    }
    return out;
}

static const char *ext_for(GMimeContentType *ct)
{
    if (!ct)
        return "bin";
    if (g_mime_content_type_is_type(ct, "text", "plain"))
        return "txt";
    if (g_mime_content_type_is_type(ct, "text", "html"))
        return "html";
    if (g_mime_content_type_is_type(ct, "text", "rtf") ||
        g_mime_content_type_is_type(ct, "application", "rtf"))
        return "rtf";
    if (g_mime_content_type_is_type(ct, "text", "calendar"))
        return "ics";
    if (g_mime_content_type_is_type(ct, "message", "*"))
        return "eml";
    if (g_mime_content_type_is_type(ct, "text", "*"))
        return "txt";
    return "bin";
}

/* A part is a body (not an attachment): text, no filename, not disposition attachment. An
 * unnamed application/x-msdownload part is an attachment all the same (clients show it as
 * ATT00001.bin), so the attachment signals look at it. */
static int is_body(GMimeObject *obj, const char *filename)
{
    if (filename && *filename)
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct || !g_mime_content_type_is_type(ct, "text", "*"))
        return 0;
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
    return !cd || !g_mime_content_disposition_is_attachment(cd);
}

/* Text bodies: URLs (through mailsig), passwords for encrypted attachments. */
static void scan_text_body(msg_ctx *m, const char *text, size_t len)
{
    if (len > MAX_TEXT_SCAN)
        len = MAX_TEXT_SCAN;
    ab_mail_text_urls(m->u, text, len, "mail.body");
    char pw[AB_MAIL_MAX_PASSWORD + 1];
    const char *at = text;
    size_t left = len;
    for (int k = 0; k < 8; k++) {
        size_t used = 0;
        size_t n = ab_mail_find_password(at, left, pw, sizeof(pw), &used);
        if (!n)
            break;
        ab_unpack_add_password(m->u, pw, n);
        m->password_found = 1;
        at += used;
        left -= used;
    }
}

static ab_status yield_part(msg_ctx *m, part_ref *r, int *stop)
{
    GMimeObject *obj = r->obj;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char name_buf[96];
    const char *name = NULL;
    GMimeStream *st = NULL;
    ab_status rc = AB_OK;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
        name = cd ? g_mime_content_disposition_get_parameter(cd, "filename") : NULL;
        if (!inner)
            return AB_OK;
        st = g_mime_stream_mem_new();
        if (g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, st) < 0) {
            ab_unpack_error(m->u, NULL, AB_ERR_PARSE, "part %s: embedded message unreadable",
                            r->path);
            goto out;
        }
    } else if (GMIME_IS_PART(obj)) {
        name = g_mime_part_get_filename(GMIME_PART(obj));
        int body = is_body(obj, name);
        int text = ct && g_mime_content_type_is_type(ct, "text", "*");
        st = decode_part(GMIME_PART(obj), body && text);
        if (!st) {
            ab_unpack_error(m->u, NULL, AB_ERR_PARSE, "part %s: content unreadable", r->path);
            goto out;
        }
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
        if (body && text && ba && !g_mime_content_type_is_type(ct, "text", "html"))
            scan_text_body(m, (const char *)ba->data, ba->len);
        if (!body && ba) {
            char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL; /* owned: g_free */
            ab_mail_attachment_signals(m->u, name ? name : "", mt, ba->data, ba->len,
                                       &m->has_encrypted_archive);
            g_free(mt);
        }
    } else {
        return AB_OK; /* a multipart GMime could not descend into */
    }
    if (!name || !*name) {
        snprintf(name_buf, sizeof(name_buf), "part-%s.%s", r->path, ext_for(ct));
        name = name_buf;
    }
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
    char type[64] = "";
    if (ct && g_mime_content_type_get_media_type(ct) && g_mime_content_type_get_media_subtype(ct))
        snprintf(type, sizeof(type), "%s/%s", g_mime_content_type_get_media_type(ct),
                 g_mime_content_type_get_media_subtype(ct));
    for (char *p = type; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    ab_member mem;
    memset(&mem, 0, sizeof(mem));
    mem.media_type = type[0] ? type : NULL;
    mem.name = name;
    mem.data = ba && ba->len ? ba->data : NULL;
    mem.size = ba ? ba->len : 0;
    mem.mail_part = r->path;
    *stop = ab_unpack_member(m->u, &mem);
out:
    if (st)
        g_object_unref(st);
    return rc;
}

/* Where GMime should stop reading: before the boundary line that would start part
 * MAX_PARTS + 64. GMime holds every part of a message in memory (about 2 KiB each), so a 100 MB
 * message of tiny parts would cost gigabytes; a prefix bounds it. Returns size when there is no
 * need to cut. */
static size_t parse_limit(const uint8_t *d, size_t size)
{
    size_t lines = 0;
    for (size_t i = 0; i + 2 < size;) {
        if (d[i] == '-' && d[i + 1] == '-' && ++lines > MAX_PARTS + 64)
            return i;
        const uint8_t *nl = memchr(d + i, '\n', size - i);
        if (!nl)
            break;
        i = (size_t)(nl - d) + 1;
    }
    return size;
}

static ab_status mime_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    if (size > (size_t)G_MAXUINT / 2) { /* a GByteArray's length is a guint */
        ab_unpack_error(u, NULL, AB_ERR_LIMIT, "message over 2 GiB: not parsed");
        return AB_ERR_LIMIT;
    }
    msg_ctx m;
    memset(&m, 0, sizeof(m));
    m.u = u;
    ab_status rc = AB_OK;
    GMimeParserOptions *opts = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(opts, on_parser_warning, &m);
    size_t cut = parse_limit(data, size);
    if (cut < size)
        m.cut = 1;
    /* GMime reads the message where it is: a byte array over our (read-only) bytes that the
     * stream does not own; the parser only reads from it. */
    GByteArray *view = g_byte_array_new_take((guint8 *)data, cut);
    GMimeStream *in = g_mime_stream_mem_new_with_byte_array(view);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(in), FALSE);
    GMimeParser *p = g_mime_parser_new_with_stream(in);
    g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
    m.msg = g_mime_parser_construct_message(p, opts);
    if (!m.msg) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "not a readable mail message");
        rc = AB_ERR_PARSE;
        goto out;
    }
    message_info(&m);
    ab_mail_header_signals(u, GMIME_OBJECT(m.msg), m.from_domain);
    collect(&m, g_mime_message_get_mime_part(m.msg), "", 0);
    if (m.crit)
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "malformed MIME (%s): parts may be missing",
                        m.crit_msg);
    if (m.too_many || m.cut)
        ab_unpack_error(u, NULL, AB_ERR_LIMIT,
                        "more than %d parts or %d levels of multipart: the rest are not scanned",
                        MAX_PARTS, MAX_WALK_DEPTH);
    /* Text bodies first: a password in the body must be known before the archive it opens. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m.n_parts && !ab_unpack_stopped(u); i++) {
            GMimeObject *obj = m.parts[i].obj;
            int early =
                GMIME_IS_PART(obj) && is_body(obj, g_mime_part_get_filename(GMIME_PART(obj)));
            if (early != (pass == 0))
                continue;
            int stop = 0;
            yield_part(&m, &m.parts[i], &stop);
            if (stop)
                goto done;
        }
    }
done:
    if (m.has_encrypted_archive && m.password_found)
        ab_unpack_signal(u, "encrypted-attachment-password", AB_SIG_ENCRYPTED_PASSWORD,
                         "an encrypted archive is attached and the body gives a password (tried)",
                         NULL, NULL, "mail.body");
out:
    free(m.parts);
    if (m.msg)
        g_object_unref(m.msg);
    g_object_unref(p);
    g_object_unref(in);
    g_byte_array_free(view, FALSE); /* the array, not our bytes */
    g_mime_parser_options_free(opts);
    return rc;
}

static void mime_init(void)
{
    g_mime_init();
}

const ab_source ab_source_mime = {
    .name = "mime", .parent = "MAIL", .claims = mime_claims, .run = mime_run, .init = mime_init};

/* ---- mbox ---- */

/* "From " at p, then something that is not a header ("From: " is a header, not a separator). */
static int is_from_line(const uint8_t *p, size_t left)
{
    return left > 5 && !memcmp(p, "From ", 5);
}

static int mbox_claims(const uint8_t *data, size_t size)
{
    if (!is_from_line(data, size))
        return 0;
    size_t i = 5;
    while (i < size && i < 1024 && data[i] != '\n')
        i++;
    if (i >= size || data[i] != '\n')
        return 0;
    i++;
    return looks_like_message(data + i, size - i);
}

/* The Message-ID of a message's header (bytes [0, n)), without <>, into out; 0 when none. */
static size_t header_message_id(const uint8_t *d, size_t n, char *out, size_t cap)
{
    size_t i = 0, lim = n < MAX_HEADER_SCAN ? n : MAX_HEADER_SCAN;
    while (i < lim) {
        if (d[i] == '\n' || (d[i] == '\r' && i + 1 < lim && d[i + 1] == '\n'))
            return 0; /* blank line: end of header */
        if (lim - i > 11 && !strncasecmp((const char *)d + i, "Message-ID:", 11)) {
            size_t k = i + 11;
            while (k < lim && (d[k] == ' ' || d[k] == '\t'))
                k++;
            if (k < lim && d[k] == '<')
                k++;
            size_t o = 0;
            while (k < lim && d[k] != '>' && d[k] != '\r' && d[k] != '\n' && o + 1 < cap)
                out[o++] = (char)d[k++];
            while (o && out[o - 1] == ' ')
                o--;
            out[o] = '\0';
            return o;
        }
        while (i < lim && d[i] != '\n')
            i++;
        i++;
    }
    return 0;
}

/* The end of the message whose "From " line is at i: where the next separator starts ("From " at a
 * line start after a blank line; mboxo writers escape body lines, and a lone "From " right after
 * text is a body line in a careless mbox), or size. *body: where the message itself starts. */
static size_t mbox_next(const uint8_t *data, size_t size, size_t i, size_t *body)
{
    size_t s = i;
    const uint8_t *nl = memchr(data + s, '\n', size - s);
    s = nl ? (size_t)(nl - data) + 1 : size;
    *body = s;
    for (size_t e = s; e < size;) {
        nl = memchr(data + e, '\n', size - e);
        if (!nl)
            break;
        size_t ls = (size_t)(nl - data) + 1;
        int blank_before = ls >= 2 && (data[ls - 2] == '\n' ||
                                       (data[ls - 2] == '\r' && ls >= 3 && data[ls - 3] == '\n'));
        if (blank_before && is_from_line(data + ls, size - ls))
            return ls;
        e = ls;
    }
    return size;
}

size_t ab_mbox_split(const uint8_t *data, size_t size, uint64_t chunk, ab_mbox_range *out,
                     size_t max)
{
    size_t n = 0, i = 0, body;
    uint64_t msg = 0;
    if (!max)
        return 0;
    out[0] = (ab_mbox_range){0, size, 1};
    if (!chunk || size / 2 < chunk)
        return 1;
    while (i < size) {
        size_t next = mbox_next(data, size, i, &body);
        msg++;
        if (next < size && next - out[n].off >= chunk && n + 1 < max &&
            size - next >= chunk / 2) { /* a tail under half a chunk stays with this part */
            out[n].len = next - out[n].off;
            out[++n] = (ab_mbox_range){next, size - next, msg + 1};
        }
        i = next;
    }
    return n + 1;
}

static ab_status mbox_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    size_t i = 0, end = size;
    uint64_t n = 0;
    ab_mbox_range part;
    if (ab_unpack_part(u, &part)) { /* one part of a split mbox: its messages only */
        i = (size_t)part.off;
        end = (size_t)(part.off + part.len);
        n = part.first - 1;
    }
    while (i < end && !ab_unpack_stopped(u)) {
        /* data[i] is at a "From " line: the message starts after it */
        size_t s, next = mbox_next(data, end, i, &s);
        n++;
        char id[200], name[256];
        if (header_message_id(data + s, next - s, id, sizeof(id)))
            snprintf(name, sizeof(name), "#%llu <%s>", (unsigned long long)n, id);
        else
            snprintf(name, sizeof(name), "#%llu", (unsigned long long)n);
        ab_member mem;
        memset(&mem, 0, sizeof(mem));
        mem.name = name;
        mem.data = next > s ? data + s : NULL;
        mem.size = next - s;
        mem.packed = next - s;
        if (ab_unpack_member(u, &mem))
            break;
        i = next;
    }
    return AB_OK;
}

const ab_source ab_source_mbox = {
    .name = "mbox", .parent = "MBOX", .claims = mbox_claims, .run = mbox_run};

/* ---- yEnc ---- */

/* "=ybegin " at the start of a line in the first YENC_LOOK bytes: a yEnc block (Usenet's binary
 * encoding, sometimes in mail bodies and attachments; no Content-Transfer-Encoding names it). */
#define YENC_LOOK 4096

static const uint8_t *ybegin(const uint8_t *d, size_t size)
{
    size_t lim = size < YENC_LOOK ? size : YENC_LOOK;
    for (const uint8_t *p = d; p && p + 8 <= d + lim;) {
        if ((p == d || p[-1] == '\n') && !memcmp(p, "=ybegin ", 8))
            return p;
        p = memchr(p + 1, '=', (size_t)(d + lim - p - 1));
    }
    return NULL;
}

static int yenc_claims(const uint8_t *data, size_t size)
{
    /* A message with a yEnc block in an unencoded part is the mime source's: the part is
     * offered to this source once decoded. */
    return ybegin(data, size) != NULL && !mime_claims(data, size) && !mbox_claims(data, size);
}

/* The name= of the =ybegin line (the rest of the line, as yEnc defines it) into out. */
static void yenc_name(const uint8_t *line, const uint8_t *end, char *out, size_t cap)
{
    out[0] = '\0';
    const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
    const uint8_t *e = nl ? nl : end;
    for (const uint8_t *p = line; p + 6 <= e; p++) {
        if (memcmp(p, " name=", 6))
            continue;
        p += 6;
        size_t n = (size_t)(e - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        return;
    }
}

/* Decode the first yEnc block with GMime's yEnc filter (it finds =ybegin and stops at =yend);
 * the output is at most the input's size. */
static ab_status yenc_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    const uint8_t *b = ybegin(data, size);
    if (!b)
        return AB_OK;
    char name[256];
    yenc_name(b, data + size, name, sizeof(name));
    if (!name[0])
        snprintf(name, sizeof(name), "yenc");
    GMimeStream *out = g_mime_stream_mem_new();
    GMimeStream *filt = g_mime_stream_filter_new(out);
    /* yEnc ignores CR and LF; GMime's decoder skips only LF, so CR LF lines go through dos2unix
     * first (or every CR would be a byte of the payload). */
    GMimeFilter *crlf = g_mime_filter_dos2unix_new(FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filt), crlf);
    g_object_unref(crlf);
    GMimeFilter *y = g_mime_filter_yenc_new(FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filt), y);
    g_object_unref(y);
    size_t off = (size_t)(b - data), step = 64 << 10;
    ab_status rc = AB_OK;
    for (; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (g_mime_stream_write(filt, (const char *)data + off, n) < 0) {
            ab_unpack_error(u, name, AB_ERR_PARSE, "yEnc block unreadable");
            rc = AB_ERR_PARSE;
            break;
        }
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        if (ba && ab_unpack_check(u, name, ba->len, off + n) != AB_ROOM_OK) {
            rc = AB_ERR_LIMIT;
            break;
        }
    }
    g_mime_stream_flush(filt);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    if (rc == AB_OK && ba) {
        ab_member m;
        memset(&m, 0, sizeof(m));
        m.name = name;
        m.data = ba->len ? ba->data : NULL;
        m.size = ba->len;
        m.packed = size - (size_t)(b - data);
        ab_unpack_member(u, &m);
    }
    g_object_unref(filt);
    g_object_unref(out);
    return rc == AB_ERR_LIMIT ? AB_OK : rc;
}

const ab_source ab_source_yenc = {
    .name = "yenc", .parent = "YENC", .claims = yenc_claims, .run = yenc_run, .init = mime_init};
