/* dns.c: DNS messages over UDP and TCP (dns.h says what they yield). One pass over the
 * message, no recursion, every length checked against the bytes there; texts are written into
 * fixed buffers that cut (and say so) rather than grow. */
#include "net/dns.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "report/json.h"

#define NAME_TEXT 1280 /* 254 name bytes at 4 characters each, the dots, the NUL */
#define HDR       12

/* A text being built into a fixed buffer; past cap it stops and remembers that it did. */
typedef struct tb {
    char *s;
    size_t n, cap; /* n < cap: s[n] is the NUL */
    uint8_t cut;
} tb;

static void tb_init(tb *t, char *s, size_t cap)
{
    t->s = s;
    t->n = 0;
    t->cap = cap;
    t->cut = 0;
    s[0] = '\0';
}

static void tb_put(tb *t, const char *p, size_t k)
{
    if (k > t->cap - 1 - t->n) {
        k = t->cap - 1 - t->n;
        t->cut = 1;
    }
    memcpy(t->s + t->n, p, k);
    t->n += k;
    t->s[t->n] = '\0';
}

static void tb_putc(tb *t, char c)
{
    tb_put(t, &c, 1);
}

static void tb_printf(tb *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(tb *t, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (k > 0)
        tb_put(t, tmp, (size_t)k < sizeof(tmp) ? (size_t)k : sizeof(tmp) - 1);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One label byte as dig writes it (quote: also '"' inside a TXT string, which escapes less). */
static void put_label_byte(tb *t, uint8_t ch)
{
    if (ch == '.' || ch == ';' || ch == '\\' || ch == '"' || ch == '(' || ch == ')' || ch == '@' ||
        ch == '$') {
        char e[2] = {'\\', (char)ch};
        tb_put(t, e, 2);
    } else if (ch >= 0x21 && ch <= 0x7e) {
        tb_putc(t, (char)ch);
    } else {
        tb_printf(t, "\\%03u", ch);
    }
}

/* The name at *off into t (text form); *off moves past the name where it started. 0, or -1
 * when malformed. */
static int read_name(const uint8_t *m, size_t n, size_t *off, tb *t)
{
    size_t pos = *off, lowest = *off, wire = 0;
    int jumps = 0, jumped = 0;
    for (;;) {
        if (pos >= n)
            return -1;
        uint8_t c = m[pos];
        if (c == 0) {
            if (!jumped)
                *off = pos + 1;
            if (wire == 0)
                tb_putc(t, '.');
            return 0;
        }
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= n || ++jumps > DNS_MAX_POINTERS)
                return -1;
            size_t target = (size_t)(c & 0x3f) << 8 | m[pos + 1];
            if (target >= lowest)
                return -1; /* forwards, or back into what was read: a loop */
            if (!jumped)
                *off = pos + 2;
            jumped = 1;
            lowest = pos = target;
            continue;
        }
        if (c & 0xc0)
            return -1; /* extended (0x40) and reserved (0x80) label types */
        if (c > n - pos - 1 || wire + 1 + c + 1 > 255)
            return -1;
        if (wire)
            tb_putc(t, '.');
        for (size_t i = 0; i < c; i++)
            put_label_byte(t, m[pos + 1 + i]);
        wire += 1 + (size_t)c;
        pos += 1 + (size_t)c;
    }
}

static const char *type_name(unsigned t, char *buf, size_t bufsz)
{
    static const struct {
        uint16_t t;
        const char *name;
    } names[] = {{1, "A"},      {2, "NS"},      {5, "CNAME"},  {6, "SOA"},    {12, "PTR"},
                 {13, "HINFO"}, {15, "MX"},     {16, "TXT"},   {28, "AAAA"},  {33, "SRV"},
                 {35, "NAPTR"}, {39, "DNAME"},  {41, "OPT"},   {43, "DS"},    {46, "RRSIG"},
                 {47, "NSEC"},  {48, "DNSKEY"}, {50, "NSEC3"}, {52, "TLSA"},  {64, "SVCB"},
                 {65, "HTTPS"}, {99, "SPF"},    {251, "IXFR"}, {252, "AXFR"}, {255, "ANY"},
                 {257, "CAA"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == t)
            return names[i].name;
    snprintf(buf, bufsz, "TYPE%u", t);
    return buf;
}

/* What one message's walk needs. */
typedef struct walk {
    const ab_flow_ref *f;
    int dir;
    const ab_net_out *out;
    const uint8_t *m;
    size_t n, off;
    ab_json *j;
    char last[NAME_TEXT]; /* the last domain said, lower case */
    size_t last_len;
    int bad_rdata; /* a record's rdata was malformed (its framing was fine: the walk goes on) */
} walk;

static void say_domain(walk *w, const char *where, const char *name, size_t len)
{
    char low[NAME_TEXT];
    if (!w->out->observable || len == 0 || (len == 1 && name[0] == '.') || len >= NAME_TEXT)
        return;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] | 0x20 : name[i]);
    if (len == w->last_len && memcmp(low, w->last, len) == 0)
        return;
    memcpy(w->last, low, len);
    w->last_len = len;
    w->out->observable(w->out->ctx, w->f, w->dir, "domain", where, low, len);
}

static void say_ip(walk *w, const char *text)
{
    if (w->out->observable)
        w->out->observable(w->out->ctx, w->f, w->dir, "ip", "dns.answer", text, strlen(text));
}

/* The rdata at m[at..at+len) as RFC 3597 generic text. */
static void data_generic(tb *t, const uint8_t *m, size_t at, size_t len)
{
    tb_printf(t, "\\# %zu", len);
    if (len)
        tb_putc(t, ' ');
    for (size_t i = 0; i < len && i < DNS_MAX_HEX; i++)
        tb_printf(t, "%02x", m[at + i]);
    if (len > DNS_MAX_HEX)
        t->cut = 1;
}

static void data_txt(tb *t, const uint8_t *m, size_t at, size_t len)
{
    size_t i = 0;
    while (i < len && !t->cut) {
        size_t k = m[at + i];
        if (k > len - i - 1) {
            k = len - i - 1; /* a string running past the rdata: what is there */
        }
        if (i)
            tb_putc(t, ' ');
        tb_putc(t, '"');
        for (size_t x = 0; x < k; x++) {
            uint8_t ch = m[at + i + 1 + x];
            if (ch == '"' || ch == '\\') {
                char e[2] = {'\\', (char)ch};
                tb_put(t, e, 2);
            } else if (ch >= 0x20 && ch <= 0x7e) {
                tb_putc(t, (char)ch);
            } else {
                tb_printf(t, "\\%03u", ch);
            }
        }
        tb_putc(t, '"');
        i += 1 + k;
    }
}

/* A name inside rdata [at, end): into t; -1 when malformed or past the rdata. */
static int rdata_name(walk *w, size_t *at, size_t end, tb *t, int answer)
{
    char nb[NAME_TEXT];
    tb name;
    tb_init(&name, nb, sizeof(nb));
    if (read_name(w->m, end, at, &name) != 0)
        return -1;
    tb_put(t, name.s, name.n);
    if (answer)
        say_domain(w, "dns.answer", name.s, name.n);
    return 0;
}

/* The data text of one record; 0, or -1 when its rdata is malformed (then generic text). */
static int rdata_text(walk *w, unsigned type, unsigned cls, size_t at, size_t len, tb *t,
                      int answer)
{
    const uint8_t *m = w->m;
    size_t end = at + len, p = at;
    char ip[AB_IPADDR_TEXT];
    ab_ipaddr a;
    switch (type) {
    case 1: /* A */
        if (len != 4)
            break;
        ab_ipaddr_from_v4(&a, m + at);
        ab_ipaddr_format(&a, ip, sizeof(ip));
        tb_put(t, ip, strlen(ip));
        if (answer)
            say_ip(w, ip);
        return 0;
    case 28: /* AAAA */
        if (len != 16)
            break;
        memcpy(a.b, m + at, 16);
        ab_ipaddr_format(&a, ip, sizeof(ip));
        tb_put(t, ip, strlen(ip));
        if (answer)
            say_ip(w, ip);
        return 0;
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        if (rdata_name(w, &p, end, t, answer) == 0 && p == end)
            return 0;
        break;
    case 15: /* MX */
        if (len < 3)
            break;
        tb_printf(t, "%u ", be16(m + at));
        p += 2;
        if (rdata_name(w, &p, end, t, answer) == 0 && p == end)
            return 0;
        break;
    case 33: /* SRV */
        if (len < 7)
            break;
        tb_printf(t, "%u %u %u ", be16(m + at), be16(m + at + 2), be16(m + at + 4));
        p += 6;
        if (rdata_name(w, &p, end, t, answer) == 0 && p == end)
            return 0;
        break;
    case 6: /* SOA */
        if (rdata_name(w, &p, end, t, 0) != 0)
            break;
        tb_putc(t, ' ');
        if (rdata_name(w, &p, end, t, 0) != 0 || end - p != 20)
            break;
        tb_printf(t, " %u %u %u %u %u", be32(m + p), be32(m + p + 4), be32(m + p + 8),
                  be32(m + p + 12), be32(m + p + 16));
        return 0;
    case 16: /* TXT */
        data_txt(t, m, at, len);
        return 0;
    case 41: /* OPT: the class is the requester's UDP payload size */
        tb_printf(t, "udp=%u", cls);
        return 0;
    default:
        data_generic(t, m, at, len);
        return 0;
    }
    t->n = 0;
    t->s[0] = '\0';
    t->cut = 0;
    data_generic(t, m, at, len);
    return -1;
}

/* One question; 0 or -1. */
static int question(walk *w)
{
    char nb[NAME_TEXT], tn[16];
    tb name;
    tb_init(&name, nb, sizeof(nb));
    if (read_name(w->m, w->n, &w->off, &name) != 0 || w->n - w->off < 4)
        return -1;
    unsigned qtype = be16(w->m + w->off), qclass = be16(w->m + w->off + 2);
    w->off += 4;
    say_domain(w, "dns.query", name.s, name.n);
    ab_json_obj_begin(w->j);
    ab_json_key(w->j, "name");
    ab_json_str(w->j, name.s, name.n);
    ab_json_key(w->j, "qtype");
    ab_json_uint(w->j, qtype);
    ab_json_key(w->j, "qtype_name");
    ab_json_cstr(w->j, type_name(qtype, tn, sizeof(tn)));
    if (qclass != 1) {
        ab_json_key(w->j, "qclass");
        ab_json_uint(w->j, qclass);
    }
    ab_json_obj_end(w->j);
    return 0;
}

/* One resource record (answer: of the answer section); 0, or -1 when its framing is malformed
 * (a record whose rdata alone is malformed is written with generic data, and w->bad_rdata
 * set). */
static int record(walk *w, int answer)
{
    char nb[NAME_TEXT], db[DNS_MAX_DATA + 4], tn[16];
    tb name, data;
    tb_init(&name, nb, sizeof(nb));
    tb_init(&data, db, DNS_MAX_DATA + 1);
    if (read_name(w->m, w->n, &w->off, &name) != 0 || w->n - w->off < 10)
        return -1;
    const uint8_t *h = w->m + w->off;
    unsigned type = be16(h), cls = be16(h + 2);
    uint32_t ttl = be32(h + 4);
    size_t rdlen = be16(h + 8);
    w->off += 10;
    if (rdlen > w->n - w->off)
        return -1;
    if (answer)
        say_domain(w, "dns.answer", name.s, name.n);
    if (rdata_text(w, type, cls, w->off, rdlen, &data, answer) != 0)
        w->bad_rdata = 1;
    w->off += rdlen;
    if (data.cut) {
        data.cap = sizeof(db);
        tb_put(&data, "...", 3);
    }
    ab_json_obj_begin(w->j);
    ab_json_key(w->j, "name");
    ab_json_str(w->j, name.s, name.n);
    ab_json_key(w->j, "rtype");
    ab_json_uint(w->j, type);
    ab_json_key(w->j, "rtype_name");
    ab_json_cstr(w->j, type_name(type, tn, sizeof(tn)));
    if (cls != 1 && type != 41) {
        ab_json_key(w->j, "class");
        ab_json_uint(w->j, cls);
    }
    ab_json_key(w->j, "ttl");
    ab_json_uint(w->j, ttl);
    ab_json_key(w->j, "data");
    ab_json_str(w->j, data.s, data.n);
    ab_json_obj_end(w->j);
    return 0;
}

/* The message into rec (reset first) and its observables; 0, or -1 when malformed. */
static int dns_parse(const ab_flow_ref *f, int dir, const uint8_t *m, size_t n,
                     const ab_net_out *out, ab_buf *rec)
{
    if (n < HDR)
        return -1;
    ab_json j;
    walk w = {.f = f, .dir = dir, .out = out, .m = m, .n = n, .off = HDR, .j = &j};
    unsigned flags = be16(m + 2);
    unsigned counts[4] = {be16(m + 4), be16(m + 6), be16(m + 8), be16(m + 10)};
    static const char *const sections[4] = {"queries", "answers", "authorities", "additionals"};
    static const char *const flag_names[6] = {"aa", "tc", "rd", "ra", "ad", "cd"};
    static const unsigned flag_bits[6] = {0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010};
    int bad = 0, cut = 0;
    size_t budget = DNS_MAX_RECORDS;

    ab_buf_reset(rec);
    ab_json_init(&j, rec);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "type");
    ab_json_cstr(&j, "dns");
    ab_json_key(&j, "id");
    ab_json_uint(&j, be16(m));
    ab_json_key(&j, "qr");
    ab_json_bool(&j, (flags & 0x8000) != 0);
    ab_json_key(&j, "opcode");
    ab_json_uint(&j, (flags >> 11) & 15);
    ab_json_key(&j, "rcode");
    ab_json_uint(&j, flags & 15);
    ab_json_key(&j, "flags");
    ab_json_arr_begin(&j);
    for (int i = 0; i < 6; i++)
        if (flags & flag_bits[i])
            ab_json_cstr(&j, flag_names[i]);
    ab_json_arr_end(&j);
    for (int s = 0; s < 4 && !bad; s++) {
        if (counts[s] == 0 && s > 0)
            continue;
        ab_json_key(&j, sections[s]);
        ab_json_arr_begin(&j);
        for (unsigned i = 0; i < counts[s] && !bad; i++) {
            if (budget == 0) {
                cut = 1;
                break;
            }
            budget--;
            if ((s == 0 ? question(&w) : record(&w, s == 1)) != 0)
                bad = 1;
        }
        ab_json_arr_end(&j);
        if (cut)
            break;
    }
    if (cut) {
        ab_json_key(&j, "records_cut");
        ab_json_bool(&j, 1);
    }
    bad |= w.bad_rdata;
    if (bad) {
        ab_json_key(&j, "malformed");
        ab_json_bool(&j, 1);
    }
    ab_json_obj_end(&j);
    if (j.st == AB_OK && out->record)
        out->record(out->ctx, f, rec->data, rec->len);
    return bad ? -1 : 0;
}

int ab_dns_message(const ab_flow_ref *f, int dir, const uint8_t *msg, size_t n,
                   const ab_net_out *out)
{
    ab_buf rec;
    ab_buf_init(&rec, 0);
    int r = dns_parse(f, dir, msg, n, out, &rec);
    ab_buf_release(&rec);
    return r;
}

/* ---- DNS over TCP ---- */

typedef struct dns_dir {
    uint8_t lenbuf[2];
    uint8_t nlen; /* bytes of the length prefix read */
    uint8_t dead;
    size_t need;   /* the message's length, once nlen is 2 */
    uint64_t skip; /* bytes of a message cut by a gap still to come */
    ab_buf msg;    /* owns a message that feeds cut, capped at 65535 */
} dns_dir;

typedef struct dns_state {
    ab_net_limits lim;
    dns_dir d[2];
    size_t n_msgs;
    uint8_t stopped;
    ab_buf rec; /* owns the record being written */
} dns_state;

static int dns_detect(const uint8_t *data, size_t n, int dir)
{
    if (n < 15)
        return -1;
    size_t len = be16(data);
    const uint8_t *h = data + 2;
    unsigned flags = be16(h + 2), qd = be16(h + 4), an = be16(h + 6), ns = be16(h + 8),
             ar = be16(h + 10), opcode = (flags >> 11) & 15;
    int qr = (flags & 0x8000) != 0;
    if (len < HDR + 5 || qr != (dir == AB_DIR_TO_CLIENT) || opcode == 3 || opcode > 5 ||
        (flags & 0x0040) || qd < 1 || qd > 16 || h[12] > 63)
        return 0;
    if (!qr && ((flags & 15) || an > 16 || ns > 16 || ar > 16))
        return 0;
    if ((size_t)qd * 5 + ((size_t)an + ns + ar) * 11 > len - HDR)
        return 0;
    return 1;
}

static void *dns_new(const ab_net_limits *lim)
{
    dns_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    ab_net_limits_set(&st->lim, lim);
    for (int i = 0; i < 2; i++)
        ab_buf_init(&st->d[i].msg, 65535);
    ab_buf_init(&st->rec, 0);
    return st;
}

static void dns_say(const ab_flow_ref *f, const ab_net_out *out, const char *msg)
{
    ab_net_say(out, f, msg);
}

static void dns_die(dns_dir *d, const ab_flow_ref *f, const ab_net_out *out, const char *msg)
{
    d->dead = 1;
    ab_buf_release(&d->msg);
    dns_say(f, out, msg);
}

static int dns_verdict(const dns_state *st)
{
    return st->stopped || (st->d[0].dead && st->d[1].dead) ? -1 : 0;
}

static void dns_one(dns_state *st, const ab_flow_ref *f, int dir, const uint8_t *m, size_t n,
                    const ab_net_out *out)
{
    dns_parse(f, dir, m, n, out, &st->rec);
    if (++st->n_msgs >= st->lim.max_tx) {
        st->stopped = 1;
        dns_say(f, out, "dns: message limit (max_tx) reached");
    }
}

static int dns_data(void *vst, const ab_flow_ref *f, int dir, const uint8_t *data, size_t n,
                    const ab_net_out *out)
{
    dns_state *st = vst;
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return -1;
    dns_dir *d = &st->d[dir];
    const uint8_t *p = data, *end = data + n;
    while (p < end && !d->dead && !st->stopped) {
        size_t avail = (size_t)(end - p);
        if (d->skip) {
            size_t k = d->skip < avail ? (size_t)d->skip : avail;
            d->skip -= k;
            p += k;
        } else if (d->nlen < 2) {
            d->lenbuf[d->nlen++] = *p++;
            if (d->nlen == 2) {
                d->need = be16(d->lenbuf);
                if (d->need == 0)
                    dns_die(d, f, out, "dns: zero-length message over TCP");
            }
        } else if (d->msg.len == 0 && avail >= d->need) {
            dns_one(st, f, dir, p, d->need, out); /* whole in this feed: parsed in place */
            p += d->need;
            d->nlen = 0;
        } else {
            size_t k = d->need - d->msg.len;
            if (k > avail)
                k = avail;
            if (ab_buf_add(&d->msg, p, k) != AB_OK) {
                dns_die(d, f, out, "dns: out of memory");
                break;
            }
            p += k;
            if (d->msg.len == d->need) {
                dns_one(st, f, dir, (const uint8_t *)d->msg.data, d->need, out);
                ab_buf_reset(&d->msg);
                d->nlen = 0;
            }
        }
    }
    return dns_verdict(st);
}

static int dns_gap(void *vst, const ab_flow_ref *f, int dir, uint64_t n, const ab_net_out *out)
{
    dns_state *st = vst;
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return -1;
    dns_dir *d = &st->d[dir];
    if (d->dead || st->stopped || n == 0)
        return dns_verdict(st);
    if (d->skip) {
        if (n > d->skip)
            dns_die(d, f, out, "dns: gap past a message over TCP");
        else
            d->skip -= n;
    } else if (d->nlen == 2) {
        uint64_t left = d->need - d->msg.len;
        if (n > left) {
            dns_die(d, f, out, "dns: gap past a message over TCP");
        } else {
            d->skip = left - n; /* the message is lost; its bytes after the gap are skipped */
            ab_buf_reset(&d->msg);
            d->nlen = 0;
        }
    } else {
        dns_die(d, f, out, "dns: gap in a length prefix over TCP");
    }
    return dns_verdict(st);
}

static void dns_close(void *vst, const ab_flow_ref *f, const ab_net_out *out)
{
    (void)vst;
    (void)f;
    (void)out; /* a message cut by the end of the flow cannot be read: nothing to finish */
}

static void dns_free(void *vst)
{
    dns_state *st = vst;
    if (!st)
        return;
    for (int i = 0; i < 2; i++)
        ab_buf_release(&st->d[i].msg);
    ab_buf_release(&st->rec);
    free(st);
}

const ab_app_proto ab_app_dns = {
    .name = "dns",
    .detect = dns_detect,
    .new_state = dns_new,
    .data = dns_data,
    .gap = dns_gap,
    .close = dns_close,
    .free_state = dns_free,
};
