/* smtp.c: the SMTP parser (smtp.h): command and reply lines, the DATA/BDAT message as an object,
 * the envelope as records and observables, STARTTLS into an embedded TLS state. */
#include "net/smtp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/tls.h"
#include "report/json.h"

#define SMTP_MAX_REC_JSON ((size_t)1 << 20)

enum { C_CMD, C_AUTH, C_DATA, C_BDAT, C_TLS };        /* client modes */
enum { S_REPLY, S_TLS };                              /* server modes */
enum { P_OTHER, P_DATA, P_AUTH, P_END_DATA };         /* commands waiting for replies */
enum { D_LS, D_DOT, D_DOTCR, D_MID };                 /* DATA: where in a line */
enum { A_LONG = 1, A_BAD_REPLY = 2, A_PIPELINE = 4 }; /* anomalies */

/* One direction's line being collected (buf owned, grown to lim->max_line). */
typedef struct smtp_line {
    char *buf;
    size_t len, alloc;
    int skipping; /* inside a line past the limit (or after a gap): drop to its end */
} smtp_line;

/* Invariant: strings are owned (malloc) or NULL; msg holds min(msg_size, max_body) bytes. */
typedef struct smtp_state {
    ab_net_limits lim;
    smtp_line ln[2];
    int cmode, smode;
    int dead;
    /* replies */
    int multi; /* inside a multi-line reply */
    int replies;
    uint8_t pending[SMTP_MAX_PIPELINE];
    size_t pq_head, pq_len;
    /* STARTTLS */
    int starttls_sent, starttls;
    void *tls;    /* owned: ab_app_tls state */
    int tls_dead; /* the TLS parser gave up (said so): the rest of the flow is ignored */
    /* session */
    char *banner, *helo, *auth;
    const char *helo_cmd;
    int anomalies;
    /* transaction */
    int in_tx; /* MAIL FROM seen (or a message started) and not reported */
    char *mail_from;
    char *rcpt[SMTP_MAX_RCPT];
    size_t n_rcpt;
    int rcpt_cut, data_rejected;
    /* message */
    int dot;
    uint8_t *msg;
    size_t msg_len, msg_alloc;
    uint64_t msg_size;
    int msg_open, msg_incomplete, msg_bdat, msg_number;
    int msg_mem_cut; /* this message was cut at the capture's memcap (counted once) */
    uint64_t bdat_left;
    int bdat_last;
    int n_messages;
    size_t n_records;
    ab_buf json;
} smtp_state;

typedef struct smtp_call {
    smtp_state *st;
    const ab_flow_ref *f; /* the caller's, or tls_ref once TLS started */
    const ab_net_out *out;
    ab_flow_ref tls_ref;
} smtp_call;

/* ---- helpers ---- */

static char *dup_field(const char *p, size_t n)
{
    if (n > SMTP_MAX_FIELD)
        n = SMTP_MAX_FIELD;
    const char *nul = memchr(p, 0, n);
    if (nul)
        n = (size_t)(nul - p);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void set_field(char **slot, const char *p, size_t n)
{
    free(*slot);
    *slot = dup_field(p, n);
}

static int ci_prefix(const char *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

static void observe(smtp_call *c, int dir, const char *type, const char *where, const char *v,
                    size_t n)
{
    ab_net_observe(c->out, c->f, dir, type, where, v, n);
}

static void say_error(smtp_call *c, const char *msg)
{
    ab_net_say(c->out, c->f, msg);
}

/* Labels of [A-Za-z0-9_-], at least two, not all digits (net.h). */
static int is_hostname(const char *s, size_t n)
{
    return ab_net_is_hostname(s, n);
}

/* ---- records ---- */

static void tx_clear(smtp_state *st)
{
    free(st->mail_from);
    st->mail_from = NULL;
    for (size_t i = 0; i < st->n_rcpt; i++)
        free(st->rcpt[i]);
    st->n_rcpt = 0;
    st->rcpt_cut = 0;
    st->data_rejected = 0;
    st->in_tx = 0;
    st->msg_number = 0;
    st->msg_size = 0;
    st->msg_incomplete = 0;
    st->msg_bdat = 0;
}

static void put_str(ab_json *j, const char *key, const char *s)
{
    if (s)
        ab_json_kv_bytes(j, key, s);
}

static void put_true(ab_json *j, const char *key, int v)
{
    if (!v)
        return;
    ab_json_key(j, key);
    ab_json_bool(j, 1);
}

static void write_record(ab_json *j, const smtp_state *st, int tx)
{
    static const char *const anomaly[] = {"line_too_long", "bad_reply", "pipeline_overflow"};
    ab_json_obj_begin(j);
    ab_json_key(j, "type");
    ab_json_cstr(j, "smtp");
    put_str(j, "banner", st->banner);
    put_str(j, "helo", st->helo);
    put_str(j, "helo_command", st->helo_cmd);
    ab_json_key(j, "starttls");
    ab_json_bool(j, st->starttls);
    put_str(j, "auth", st->auth);
    if (tx) {
        put_str(j, "mail_from", st->mail_from);
        if (st->n_rcpt)
            ab_json_kv_bytes_array(j, "rcpt_to", (const char *const *)st->rcpt, st->n_rcpt);
        put_true(j, "rcpt_to_cut", st->rcpt_cut);
        if (st->msg_number) {
            ab_json_key(j, "message");
            ab_json_int(j, st->msg_number);
            ab_json_key(j, "message_size");
            ab_json_uint(j, st->msg_size);
            put_true(j, "bdat", st->msg_bdat);
            put_true(j, "message_truncated", st->msg_size > st->msg_len);
            put_true(j, "message_incomplete", st->msg_incomplete);
        }
        if (st->data_rejected) {
            ab_json_key(j, "data_rejected");
            ab_json_int(j, st->data_rejected);
        }
        put_true(j, "aborted", !st->msg_number);
    }
    if (st->anomalies) {
        ab_json_key(j, "anomalies");
        ab_json_arr_begin(j);
        for (int i = 0; i < 3; i++)
            if (st->anomalies & (1 << i))
                ab_json_cstr(j, anomaly[i]);
        ab_json_arr_end(j);
    }
    ab_json_obj_end(j);
}

/* One record (tx: of the open transaction, else of the session). 0, or -1 past lim->max_tx. */
static int report(smtp_call *c, int tx)
{
    smtp_state *st = c->st;
    if (st->n_records >= st->lim.max_tx) {
        say_error(c, "smtp: too many transactions");
        st->dead = 1;
        return -1;
    }
    st->n_records++;
    if (c->out->record) {
        ab_json j;
        ab_buf_reset(&st->json);
        ab_json_init(&j, &st->json);
        write_record(&j, st, tx);
        if (j.st == AB_OK)
            c->out->record(c->out->ctx, c->f, st->json.data, st->json.len);
    }
    if (tx)
        tx_clear(st);
    return 0;
}

static int end_tx(smtp_call *c)
{
    return c->st->in_tx ? report(c, 1) : 0;
}

/* ---- the message ---- */

static void msg_add(smtp_state *st, const uint8_t *p, size_t n)
{
    st->msg_size += n;
    /* BDAT 0: nothing, and msg may be NULL; once cut at the memcap, nothing more is kept (a
     * later piece that fits would leave a hole in the message) */
    if (n == 0 || st->msg_len >= st->lim.max_body || st->msg_mem_cut)
        return;
    size_t k = st->lim.max_body - st->msg_len < n ? st->lim.max_body - st->msg_len : n;
    if (st->msg_len + k > st->msg_alloc) {
        size_t want = st->msg_alloc ? st->msg_alloc : 16384;
        while (want < st->msg_len + k)
            want *= 2;
        if (want > st->lim.max_body)
            want = st->lim.max_body;
        int r = ab_net_mem_grow(st->lim.mem, &st->msg, &st->msg_alloc, want);
        if (r > 0)
            st->msg_mem_cut = 1; /* the capture's memcap: keep what there is */
        else if (r < 0)
            st->msg_incomplete = 1; /* out of memory: keep what there is */
        if (r)
            return;
    }
    memcpy(st->msg + st->msg_len, p, k);
    st->msg_len += k;
}

static void msg_begin(smtp_state *st, int bdat)
{
    if (st->msg_open)
        return;
    st->msg_open = 1;
    st->in_tx = 1;
    st->msg_len = 0;
    st->msg_size = 0;
    st->msg_bdat = bdat;
    st->msg_incomplete = 0;
    st->msg_mem_cut = 0;
    st->dot = D_LS;
    st->msg_number = ++st->n_messages;
}

static int msg_end(smtp_call *c)
{
    smtp_state *st = c->st;
    char name[32];
    st->msg_open = 0;
    st->cmode = C_CMD;
    snprintf(name, sizeof(name), "message-%d", st->msg_number);
    const char *names[1] = {name};
    if (c->out->object && st->msg_len) /* an empty message is only the record's */
        c->out->object(c->out->ctx, c->f, AB_DIR_TO_SERVER, names, 1, st->msg, st->msg_len,
                       "message/rfc822", st->msg_size > st->msg_len);
    return report(c, 1);
}

/* DATA bytes: unstuffed into the message up to the terminator. Returns bytes used, and sets
 * *done when the terminator was among them. */
static size_t data_bytes(smtp_state *st, const uint8_t *p, size_t n, int *done)
{
    size_t i = 0;
    *done = 0;
    while (i < n) {
        uint8_t ch = p[i];
        switch (st->dot) {
        case D_LS:
            if (ch == '.') {
                st->dot = D_DOT; /* stuffing or the end: decided by what follows */
                i++;
            } else {
                st->dot = D_MID;
            }
            break;
        case D_DOT:
            if (ch == '\r') {
                st->dot = D_DOTCR;
                i++;
            } else if (ch == '\n') {
                *done = 1;
                return i + 1;
            } else {
                st->dot = D_MID; /* the stuffed dot is dropped */
            }
            break;
        case D_DOTCR:
            if (ch == '\n') {
                *done = 1;
                return i + 1;
            }
            msg_add(st, (const uint8_t *)"\r", 1); /* ".\rX": a dropped dot, then CR */
            st->dot = D_MID;
            break;
        default: {
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            size_t end = nl ? (size_t)(nl - p) + 1 : n;
            msg_add(st, p + i, end - i);
            i = end;
            if (nl)
                st->dot = D_LS;
            break;
        }
        }
    }
    return n;
}

/* ---- replies ---- */

static void pending_push(smtp_state *st, uint8_t kind)
{
    if (st->pq_len == SMTP_MAX_PIPELINE) {
        st->anomalies |= A_PIPELINE; /* the oldest is forgotten */
        st->pq_head = (st->pq_head + 1) % SMTP_MAX_PIPELINE;
        st->pq_len--;
    }
    st->pending[(st->pq_head + st->pq_len) % SMTP_MAX_PIPELINE] = kind;
    st->pq_len++;
}

static void on_reply(smtp_state *st, int code)
{
    if (st->replies++ == 0)
        return; /* the greeting */
    if (!st->pq_len)
        return;
    uint8_t kind = st->pending[st->pq_head];
    if (kind == P_AUTH && code == 334)
        return; /* a challenge: AUTH goes on */
    st->pq_head = (st->pq_head + 1) % SMTP_MAX_PIPELINE;
    st->pq_len--;
    if (kind == P_DATA && code != 354) {
        st->data_rejected = code;
        if (st->cmode == C_DATA && st->msg_open && st->msg_size == 0 && st->dot == D_LS) {
            st->msg_open = 0; /* nothing of it came: the client is back to commands */
            st->n_messages--;
            st->msg_number = 0;
            st->cmode = C_CMD;
        }
    } else if (kind == P_AUTH && st->cmode == C_AUTH) {
        st->cmode = C_CMD;
    }
}

static void reply_line(smtp_call *c, const char *p, size_t n)
{
    smtp_state *st = c->st;
    if (n < 3 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
        (n > 3 && p[3] != ' ' && p[3] != '-')) {
        st->anomalies |= A_BAD_REPLY;
        return;
    }
    int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (st->replies == 0 && !st->multi && !st->banner) {
        const char *t = n > 4 ? p + 4 : p + n;
        size_t tn = n > 4 ? n - 4 : 0;
        trim(&t, &tn);
        st->banner = dup_field(t, tn);
    }
    st->multi = n > 3 && p[3] == '-';
    if (!st->multi)
        on_reply(st, code);
}

/* ---- commands ---- */

/* The path of "MAIL FROM:<a@b> params" after the colon: p and n are
 * set to a@b. */
static void path_of(const char **p, size_t *n)
{
    trim(p, n);
    if (*n && **p == '<') {
        const char *gt = memchr(*p, '>', *n);
        size_t end = gt ? (size_t)(gt - *p) : *n;
        (*p)++;
        *n = end ? end - 1 : 0;
        return;
    }
    const char *sp = memchr(*p, ' ', *n);
    if (sp)
        *n = (size_t)(sp - *p);
}

static void cmd_helo(smtp_call *c, const char *p, size_t n, const char *cmd)
{
    smtp_state *st = c->st;
    trim(&p, &n);
    const char *sp = memchr(p, ' ', n);
    if (sp)
        n = (size_t)(sp - p);
    set_field(&st->helo, p, n);
    st->helo_cmd = cmd;
    if (n > 2 && p[0] == '[' && p[n - 1] == ']') {
        char ip[64];
        const char *a = p + 1;
        size_t an = n - 2;
        if (ci_prefix(a, an, "IPV6:")) {
            a += 5;
            an -= 5;
        }
        uint8_t bin[16];
        if (an < sizeof(ip)) {
            memcpy(ip, a, an);
            ip[an] = '\0';
            if (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1)
                observe(c, AB_DIR_TO_SERVER, "ip", "smtp.helo", ip, an);
        }
    } else if (is_hostname(p, n)) {
        observe(c, AB_DIR_TO_SERVER, "domain", "smtp.helo", p, n);
    }
}

static int cmd_mail(smtp_call *c, const char *p, size_t n)
{
    smtp_state *st = c->st;
    if (end_tx(c) != 0) /* a new transaction ends an open one (RFC 5321 3.3) */
        return -1;
    path_of(&p, &n);
    set_field(&st->mail_from, p, n);
    st->in_tx = 1;
    if (memchr(p, '@', n))
        observe(c, AB_DIR_TO_SERVER, "email", "smtp.mail_from", p,
                n > SMTP_MAX_FIELD ? SMTP_MAX_FIELD : n);
    return 0;
}

static void cmd_rcpt(smtp_call *c, const char *p, size_t n)
{
    smtp_state *st = c->st;
    path_of(&p, &n);
    st->in_tx = 1;
    if (st->n_rcpt < SMTP_MAX_RCPT) {
        char *s = dup_field(p, n);
        if (s)
            st->rcpt[st->n_rcpt++] = s;
    } else {
        st->rcpt_cut = 1;
    }
    if (memchr(p, '@', n))
        observe(c, AB_DIR_TO_SERVER, "email", "smtp.rcpt_to", p,
                n > SMTP_MAX_FIELD ? SMTP_MAX_FIELD : n);
}

static void cmd_bdat(smtp_state *st, const char *p, size_t n)
{
    uint64_t size = 0;
    size_t i = 0;
    trim(&p, &n);
    while (i < n && p[i] >= '0' && p[i] <= '9' && i < 19)
        size = size * 10 + (uint64_t)(p[i++] - '0');
    const char *rest = p + i;
    size_t rn = n - i;
    trim(&rest, &rn);
    st->bdat_last = ci_prefix(rest, rn, "LAST");
    st->bdat_left = size;
    msg_begin(st, 1);
    st->cmode = C_BDAT;
}

static void cmd_auth(smtp_state *st, const char *p, size_t n)
{
    trim(&p, &n);
    size_t k = 0;
    while (k < n && p[k] != ' ' && k < 32)
        k++;
    set_field(&st->auth, p, k); /* the mechanism only: never the initial response */
    for (char *q = st->auth; q && *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    st->cmode = C_AUTH;
}

/* An AUTH answer line: base64 or "*" (cancel); anything else is a command again. */
static int is_auth_answer(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '=' || ch == '*'))
            return 0;
    }
    return 1;
}

static int command_line(smtp_call *c, const char *p, size_t n)
{
    smtp_state *st = c->st;
    if (st->cmode == C_AUTH) {
        if (is_auth_answer(p, n))
            return 0; /* credentials: not read */
        st->cmode = C_CMD;
    }
    uint8_t kind = P_OTHER;
    int r = 0;
    if (ci_prefix(p, n, "EHLO ") || ci_prefix(p, n, "HELO ")) {
        cmd_helo(c, p + 5, n - 5, ci_prefix(p, n, "EHLO") ? "EHLO" : "HELO");
    } else if (ci_prefix(p, n, "MAIL FROM:")) {
        r = cmd_mail(c, p + 10, n - 10);
    } else if (ci_prefix(p, n, "RCPT TO:")) {
        cmd_rcpt(c, p + 8, n - 8);
    } else if (n == 4 && ci_prefix(p, n, "DATA")) {
        kind = P_DATA;
        msg_begin(st, 0);
        st->cmode = C_DATA;
    } else if (ci_prefix(p, n, "BDAT ")) {
        cmd_bdat(st, p + 5, n - 5);
    } else if (n == 4 && ci_prefix(p, n, "RSET")) {
        r = end_tx(c);
    } else if (ci_prefix(p, n, "AUTH ")) {
        kind = P_AUTH;
        cmd_auth(st, p + 5, n - 5);
    } else if (n == 8 && ci_prefix(p, n, "STARTTLS")) {
        st->starttls_sent = 1;
    }
    pending_push(st, kind);
    return r;
}

/* ---- lines ---- */

/* Bytes of direction dir in a line mode: at most one line is completed and handled. Returns
 * bytes used, or (size_t)-1 when the flow must stop. */
static size_t line_bytes(smtp_call *c, int dir, const uint8_t *p, size_t n)
{
    smtp_state *st = c->st;
    smtp_line *ln = &st->ln[dir];
    const uint8_t *nl = memchr(p, '\n', n);
    size_t used = nl ? (size_t)(nl - p) + 1 : n;
    if (ln->skipping) {
        if (nl)
            ln->skipping = 0;
        return used;
    }
    const char *line;
    size_t len;
    size_t part = nl ? (size_t)(nl - p) : n;
    if (ln->len + part > st->lim.max_line) {
        st->anomalies |= A_LONG;
        ln->len = 0;
        ln->skipping = !nl;
        return used;
    }
    if (nl && ln->len == 0) { /* the whole line is here: read in place */
        line = (const char *)p;
        len = part;
    } else {
        if (ln->len + part > ln->alloc) {
            size_t want = ln->alloc ? ln->alloc : 256;
            while (want < ln->len + part)
                want *= 2;
            char *nb = realloc(ln->buf, want);
            if (!nb) {
                say_error(c, "smtp: out of memory");
                return (size_t)-1;
            }
            ln->buf = nb;
            ln->alloc = want;
        }
        memcpy(ln->buf + ln->len, p, part);
        ln->len += part;
        if (!nl)
            return used;
        line = ln->buf;
        len = ln->len;
    }
    ln->len = 0;
    if (len && line[len - 1] == '\r')
        len--;
    if (dir == AB_DIR_TO_CLIENT) {
        reply_line(c, line, len);
        return used;
    }
    return command_line(c, line, len) == 0 ? used : (size_t)-1;
}

/* ---- TLS after STARTTLS ---- */

static int tls_start(smtp_call *c)
{
    smtp_state *st = c->st;
    if (!st->tls) {
        st->tls = ab_app_tls.new_state(&st->lim);
        if (!st->tls) {
            say_error(c, "smtp: out of memory");
            return -1;
        }
    }
    st->starttls = 1;
    c->f = &c->tls_ref;
    return 0;
}

/* The SMTP session outlives a TLS parser that gave up: its record is still given at close. */
static int tls_feed(smtp_call *c, int dir, const uint8_t *p, size_t n)
{
    if (!c->st->tls_dead && ab_app_tls.data(c->st->tls, c->f, dir, p, n, c->out) != 0)
        c->st->tls_dead = 1;
    return 0;
}

/* ---- ab_app_proto ---- */

static int prefix_or_more(const uint8_t *p, size_t n, const char *word, int ci)
{
    size_t k = strlen(word);
    for (size_t i = 0; i < k && i < n; i++) {
        char ch = (char)p[i];
        if (ci && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch != word[i])
            return 0;
    }
    return n >= k ? 1 : -1;
}

static int smtp_detect(const uint8_t *p, size_t n, int dir)
{
    if (dir == AB_DIR_TO_CLIENT) {
        int a = prefix_or_more(p, n, "220 ", 0), b = prefix_or_more(p, n, "220-", 0);
        return a == 1 || b == 1 ? 1 : (a < 0 || b < 0) ? -1 : 0;
    }
    int a = prefix_or_more(p, n, "EHLO ", 1), b = prefix_or_more(p, n, "HELO ", 1);
    return a == 1 || b == 1 ? 1 : (a < 0 || b < 0) ? -1 : 0;
}

static void *smtp_new(const ab_net_limits *lim)
{
    smtp_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    ab_net_limits_set(&st->lim, lim);
    ab_buf_init(&st->json, SMTP_MAX_REC_JSON);
    return st;
}

static void smtp_free(void *vst)
{
    smtp_state *st = vst;
    if (!st)
        return;
    tx_clear(st);
    for (int i = 0; i < 2; i++)
        free(st->ln[i].buf);
    free(st->banner);
    free(st->helo);
    free(st->auth);
    ab_net_mem_count(st->lim.mem, st->msg_alloc, 0);
    free(st->msg);
    if (st->tls)
        ab_app_tls.free_state(st->tls);
    ab_buf_release(&st->json);
    free(st);
}

static void call_init(smtp_call *c, smtp_state *st, const ab_flow_ref *f, const ab_net_out *out)
{
    c->st = st;
    c->out = out;
    c->tls_ref = *f;
    c->tls_ref.app = "smtp+tls";
    c->f = st->starttls ? &c->tls_ref : f;
}

static int client_bytes(smtp_call *c, const uint8_t *p, size_t n)
{
    smtp_state *st = c->st;
    while (n) {
        size_t used;
        int done;
        switch (st->cmode) {
        case C_TLS:
            return tls_feed(c, AB_DIR_TO_SERVER, p, n);
        case C_DATA:
            used = data_bytes(st, p, n, &done);
            if (done) {
                pending_push(st, P_END_DATA);
                if (msg_end(c) != 0)
                    return -1;
            }
            break;
        case C_BDAT:
            used = st->bdat_left < n ? (size_t)st->bdat_left : n;
            msg_add(st, p, used);
            st->bdat_left -= used;
            if (st->bdat_left == 0) { /* the BDAT command's reply follows its chunk */
                st->cmode = C_CMD;
                if (st->bdat_last && msg_end(c) != 0)
                    return -1;
            }
            break;
        default:
            if (st->starttls_sent && st->ln[0].len == 0 && !st->ln[0].skipping && p[0] == 0x16) {
                if (tls_start(c) != 0)
                    return -1;
                st->cmode = C_TLS;
                continue;
            }
            used = line_bytes(c, AB_DIR_TO_SERVER, p, n);
            if (used == (size_t)-1)
                return -1;
            break;
        }
        p += used;
        n -= used;
    }
    return 0;
}

static int server_bytes(smtp_call *c, const uint8_t *p, size_t n)
{
    smtp_state *st = c->st;
    while (n) {
        if (st->smode == S_TLS)
            return tls_feed(c, AB_DIR_TO_CLIENT, p, n);
        if (st->starttls_sent && st->ln[1].len == 0 && !st->ln[1].skipping && !st->multi &&
            p[0] == 0x16) {
            if (tls_start(c) != 0)
                return -1;
            st->smode = S_TLS;
            continue;
        }
        size_t used = line_bytes(c, AB_DIR_TO_CLIENT, p, n);
        if (used == (size_t)-1)
            return -1;
        p += used;
        n -= used;
    }
    return 0;
}

static int smtp_data(void *vst, const ab_flow_ref *f, int dir, const uint8_t *p, size_t n,
                     const ab_net_out *out)
{
    smtp_state *st = vst;
    smtp_call c;
    if (st->dead)
        return -1;
    call_init(&c, st, f, out);
    int r = dir == AB_DIR_TO_SERVER ? client_bytes(&c, p, n) : server_bytes(&c, p, n);
    if (r != 0)
        st->dead = 1;
    return r;
}

static int smtp_gap(void *vst, const ab_flow_ref *f, int dir, uint64_t n, const ab_net_out *out)
{
    smtp_state *st = vst;
    smtp_call c;
    if (st->dead)
        return -1;
    call_init(&c, st, f, out);
    if ((dir == AB_DIR_TO_SERVER && st->cmode == C_TLS) ||
        (dir == AB_DIR_TO_CLIENT && st->smode == S_TLS)) {
        if (!st->tls_dead && ab_app_tls.gap(st->tls, c.f, dir, n, out) != 0)
            st->tls_dead = 1;
        return 0;
    }
    if (dir == AB_DIR_TO_SERVER && st->cmode == C_DATA) {
        st->msg_incomplete = 1; /* the terminator is still looked for */
        st->dot = D_MID;
        return 0;
    }
    if (dir == AB_DIR_TO_SERVER && st->cmode == C_BDAT) {
        st->msg_incomplete = 1;
        if (n < st->bdat_left) {
            st->bdat_left -= n;
            return 0;
        }
        st->cmode = C_CMD; /* where the next command starts is not known */
        if (st->bdat_last && msg_end(&c) != 0)
            return -1;
    }
    if (dir == AB_DIR_TO_SERVER || dir == AB_DIR_TO_CLIENT) {
        st->ln[dir].len = 0;
        st->ln[dir].skipping = 1;
    }
    return 0;
}

static void smtp_close(void *vst, const ab_flow_ref *f, const ab_net_out *out)
{
    smtp_state *st = vst;
    smtp_call c;
    if (st->dead)
        return;
    call_init(&c, st, f, out);
    if (st->msg_open) {
        st->msg_incomplete = 1;
        if (msg_end(&c) != 0)
            return;
    } else if (end_tx(&c) != 0) {
        return;
    }
    if (st->tls)
        ab_app_tls.close(st->tls, c.f, out);
    if (st->n_records == 0)
        report(&c, 0);
}

/* After STARTTLS, what TLS says (smtp+tls). */
static int smtp_sealed(void *vst, int dir)
{
    const smtp_state *st = vst;
    return st && st->tls && !st->tls_dead && ab_app_tls.sealed(st->tls, dir);
}

const ab_app_proto ab_app_smtp = {
    .name = "smtp",
    .detect = smtp_detect,
    .new_state = smtp_new,
    .data = smtp_data,
    .gap = smtp_gap,
    .close = smtp_close,
    .free_state = smtp_free,
    .sealed = smtp_sealed,
};
