/* test_smtp.c: the SMTP parser (src/net/smtp.c) over conversations written here, fed in pieces of
 * every size (one byte at a time gives what all at once gives): EHLO and a multi-line 250,
 * pipelined MAIL/RCPT/DATA, dot-stuffing and the terminator split across feeds, BDAT, AUTH
 * (mechanism only), a refused DATA, line and body limits, gaps, max_tx; STARTTLS followed by a
 * real TLS handshake (OpenSSL in memory, tls_mem.h) read by the embedded TLS parser; and TLS
 * from the first byte (WellMail on port 25), which is not SMTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/smtp.h"
#include "net/tls.h"
#include "tls_mem.h"

static void say(conv *c, int dir, const char *s)
{
    conv_add(c, dir, (const uint8_t *)s, strlen(s));
}

/* Feeds the conversation in order in pieces of `piece` bytes (0: whole segments), then closes
 * (unless no_close). Returns the first non-zero data() result, or 0. */
static int feed_lim(const conv *c, size_t piece, got *g, const ab_net_limits *lim)
{
    ab_net_out out = {g, on_obs, on_obj, on_rec, on_err};
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    f.id = 7;
    f.app = "smtp";
    memset(g, 0, sizeof(*g));
    void *st = ab_app_smtp.new_state(lim);
    assert_non_null(st);
    int r = 0;
    for (int i = 0; i < c->n && r == 0; i++) {
        size_t off = 0;
        while (off < c->len[i] && r == 0) {
            size_t k = piece && c->len[i] - off > piece ? piece : c->len[i] - off;
            r = ab_app_smtp.data(st, &f, c->dir[i], c->data[i] + off, k, &out);
            off += k;
        }
    }
    ab_app_smtp.close(st, &f, &out);
    ab_app_smtp.free_state(st);
    return r;
}

static int feed(const conv *c, size_t piece, got *g)
{
    return feed_lim(c, piece, g, NULL);
}

static void same_for_pieces(const conv *c, const got *whole, const ab_net_limits *lim)
{
    static const size_t pieces[] = {1, 2, 3, 5, 7, 64};
    got *g = calloc(1, sizeof(*g));
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        assert_int_equal(feed_lim(c, pieces[i], g, lim), 0);
        assert_int_equal(g->n_rec, whole->n_rec);
        for (int k = 0; k < g->n_rec && k < 4; k++) {
            assert_string_equal(g->rec[k], whole->rec[k]);
            assert_string_equal(g->rec_app[k], whole->rec_app[k]);
        }
        assert_int_equal(g->n_obs, whole->n_obs);
        for (int k = 0; k < g->n_obs && k < MAXO; k++)
            assert_string_equal(g->obs[k], whole->obs[k]);
        assert_int_equal(g->n_objs, whole->n_objs);
        for (int k = 0; k < g->n_objs && k < 4; k++) {
            assert_int_equal(g->obj_len[k], whole->obj_len[k]);
            assert_memory_equal(g->obj[k], whole->obj[k], g->obj_len[k]);
        }
        got_free(g);
    }
    free(g);
}

static const char msg_stuffed[] = "From: a@example.com\r\n"
                                  "Subject: hi\r\n"
                                  "\r\n"
                                  "..leading dot\r\n"
                                  ".\r.\r\n" /* ".\r" then "." at the end: both content */
                                  "last line\r\n"
                                  ".\r\n";
static const char msg_plain[] = "From: a@example.com\r\n"
                                "Subject: hi\r\n"
                                "\r\n"
                                ".leading dot\r\n"
                                "\r.\r\n"
                                "last line\r\n";

static void session(conv *c)
{
    memset(c, 0, sizeof(*c));
    say(c, 1, "220 mx.example.org ESMTP Postfix\r\n");
    say(c, 0, "EHLO client.example.com\r\n");
    say(c, 1,
        "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-CHUNKING\r\n"
        "250 STARTTLS\r\n");
    /* pipelined: the whole group in one segment, the replies in one */
    say(c, 0,
        "MAIL FROM:<a@example.com> SIZE=120\r\nRCPT TO:<b@example.org>\r\n"
        "rcpt to:<c@example.org> NOTIFY=NEVER\r\nDATA\r\n");
    say(c, 1,
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
    say(c, 0, msg_stuffed);
    say(c, 1, "250 2.0.0 Ok: queued as 4XyZ\r\n");
    say(c, 0, "QUIT\r\n");
    say(c, 1, "221 2.0.0 Bye\r\n");
}

static void envelope_and_message(void **state)
{
    (void)state;
    conv c;
    got *g = calloc(1, sizeof(*g));
    session(&c);
    assert_int_equal(feed(&c, 0, g), 0);
    assert_int_equal(g->n_err, 0);
    assert_int_equal(g->n_objs, 1);
    assert_string_equal(g->obj_name[0], "message-1");
    assert_string_equal(g->obj_type[0], "message/rfc822");
    assert_int_equal(g->obj_trunc[0], 0);
    assert_int_equal(g->obj_len[0], strlen(msg_plain));
    assert_memory_equal(g->obj[0], msg_plain, strlen(msg_plain));
    assert_int_equal(g->n_rec, 1);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"type\":\"smtp\",\"banner\":\"mx.example.org ESMTP Postfix\",\"helo\":"
             "\"client.example.com\",\"helo_command\":\"EHLO\",\"starttls\":false,\"mail_from\":"
             "\"a@example.com\",\"rcpt_to\":[\"b@example.org\",\"c@example.org\"],\"message\":1,"
             "\"message_size\":%zu}",
             strlen(msg_plain));
    assert_string_equal(g->rec[0], want);
    assert_string_equal(g->rec_app[0], "smtp");
    assert_true(has_obs(g, "domain", "smtp.helo", "client.example.com"));
    assert_true(has_obs(g, "email", "smtp.mail_from", "a@example.com"));
    assert_true(has_obs(g, "email", "smtp.rcpt_to", "b@example.org"));
    assert_true(has_obs(g, "email", "smtp.rcpt_to", "c@example.org"));
    assert_int_equal(g->n_obs, 4);
    same_for_pieces(&c, g, NULL);
    conv_write_seed(&c, "session");
    got_free(g);
    /* max_body: the object is the first bytes, the record says the whole size */
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_body = 10;
    assert_int_equal(feed_lim(&c, 0, g, &lim), 0);
    assert_int_equal(g->obj_len[0], 10);
    assert_int_equal(g->obj_trunc[0], 1);
    assert_memory_equal(g->obj[0], msg_plain, 10);
    assert_non_null(strstr(g->rec[0], "\"message_truncated\":true"));
    snprintf(want, sizeof(want), "\"message_size\":%zu", strlen(msg_plain));
    assert_non_null(strstr(g->rec[0], want));
    same_for_pieces(&c, g, &lim);
    got_free(g);
    /* the message's buffer is counted with every flow's (lim.mem): given back at the end; past
     * the cap the message is not kept, the record says it is truncated, the cut is counted */
    ab_net_mem mem = {0, 0, 0};
    ab_net_limits_default(&lim);
    lim.mem = &mem;
    assert_int_equal(feed_lim(&c, 0, g, &lim), 0);
    assert_int_equal(g->n_objs, 1);
    assert_int_equal(mem.used, 0);
    assert_int_equal(mem.cuts, 0);
    got_free(g);
    mem.cap = 100; /* less than the first allocation (16 KiB) */
    assert_int_equal(feed_lim(&c, 0, g, &lim), 0);
    assert_int_equal(g->n_objs, 0);
    assert_non_null(strstr(g->rec[0], "\"message_truncated\":true"));
    assert_int_equal(mem.used, 0);
    assert_int_equal(mem.cuts, 1);
    got_free(g);
    conv_free(&c);
    /* each message of a session is cut (and counted) on its own */
    memset(&c, 0, sizeof(c));
    say(&c, 1, "220 mx\r\n");
    say(&c, 0, "EHLO c.example\r\n");
    say(&c, 1, "250 hi\r\n");
    for (int i = 0; i < 2; i++) {
        say(&c, 0, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
        say(&c, 1, "250 ok\r\n250 ok\r\n354 go\r\n");
        say(&c, 0, "Subject: s\r\n\r\nbody\r\n.\r\n");
        say(&c, 1, "250 ok\r\n");
    }
    mem = (ab_net_mem){0, 100, 0};
    assert_int_equal(feed_lim(&c, 0, g, &lim), 0);
    assert_int_equal(g->n_rec, 2);
    assert_int_equal(g->n_objs, 0);
    assert_int_equal(mem.cuts, 2);
    assert_int_equal(mem.used, 0);
    got_free(g);
    conv_free(&c);
    free(g);
}

static void two_transactions_rset_and_limits(void **state)
{
    (void)state;
    conv c;
    got *g = calloc(1, sizeof(*g));
    memset(&c, 0, sizeof(c));
    say(&c, 1, "220-first line\r\n220 second line\r\n");
    say(&c, 0, "HELO [192.0.2.1]\r\n");
    say(&c, 1, "250 hi\r\n");
    say(&c, 0, "MAIL FROM:<>\r\nRCPT TO:<x@y.example>\r\nRSET\r\n");
    say(&c, 1, "250 ok\r\n250 ok\r\n250 ok\r\n");
    say(&c, 0, "MAIL FROM:<p@q.example>\r\nRCPT TO:<r@s.example>\r\nDATA\r\n");
    say(&c, 1, "250 ok\r\n250 ok\r\n354 go\r\n");
    say(&c, 0, "x\r\n.\r\n");
    say(&c, 1, "250 ok\r\n");
    assert_int_equal(feed(&c, 0, g), 0);
    assert_int_equal(g->n_rec, 2);
    assert_string_equal(g->rec[0], "{\"type\":\"smtp\",\"banner\":\"first line\",\"helo\":"
                                   "\"[192.0.2.1]\",\"helo_command\":\"HELO\",\"starttls\":false,"
                                   "\"mail_from\":\"\",\"rcpt_to\":[\"x@y.example\"],\"aborted\":"
                                   "true}");
    assert_non_null(strstr(g->rec[1], "\"mail_from\":\"p@q.example\",\"rcpt_to\":[\"r@s.example\"],"
                                      "\"message\":1,\"message_size\":3}"));
    assert_true(has_obs(g, "ip", "smtp.helo", "192.0.2.1"));
    assert_false(has_obs(g, "email", "smtp.mail_from", ""));
    same_for_pieces(&c, g, NULL);
    conv_write_seed(&c, "rset_helo_literal");
    got_free(g);
    /* max_tx 1: the second record is refused, the flow stops, said */
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_tx = 1;
    assert_int_equal(feed_lim(&c, 0, g, &lim), -1);
    assert_int_equal(g->n_rec, 1);
    assert_int_equal(g->n_err, 1);
    assert_string_equal(g->err[0], "smtp: too many transactions");
    got_free(g);
    conv_free(&c);
    /* a line past max_line is skipped to its end */
    lim.max_tx = 100;
    lim.max_line = 64;
    memset(&c, 0, sizeof(c));
    say(&c, 1, "220 mx\r\n");
    say(&c, 0, "EHLO [IPv6:2001:db8::1]\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<");
    for (int i = 0; i < 10; i++)
        say(&c, 0, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    say(&c, 0, "@long.example>\r\nRCPT TO:<ok@b.example>\r\nQUIT\r\n");
    assert_int_equal(feed_lim(&c, 0, g, &lim), 0);
    assert_int_equal(g->n_rec, 1);
    assert_non_null(strstr(g->rec[0], "\"rcpt_to\":[\"ok@b.example\"],\"aborted\":true,"
                                      "\"anomalies\":[\"line_too_long\"]}"));
    assert_true(has_obs(g, "ip", "smtp.helo", "2001:db8::1"));
    assert_false(has_obs(g, "email", "smtp.rcpt_to", "xxxx@long.example"));
    same_for_pieces(&c, g, &lim);
    conv_write_seed(&c, "long_line");
    got_free(g);
    conv_free(&c);
    free(g);
}

static void auth_bdat_refused_data(void **state)
{
    (void)state;
    conv c;
    got *g = calloc(1, sizeof(*g));
    memset(&c, 0, sizeof(c));
    say(&c, 1, "220 mx ESMTP\r\n");
    say(&c, 0, "EHLO a.example\r\n");
    say(&c, 1, "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n");
    say(&c, 0, "AUTH login\r\n");
    say(&c, 1, "334 VXNlcm5hbWU6\r\n");
    say(&c, 0, "dXNlckBhLmV4YW1wbGU=\r\n");
    say(&c, 1, "334 UGFzc3dvcmQ6\r\n");
    say(&c, 0, "c2VjcmV0\r\n");
    say(&c, 1, "235 2.7.0 Authentication successful\r\n");
    say(&c, 0, "MAIL FROM:<u@a.example>\r\nRCPT TO:<v@b.example>\r\nBDAT 5\r\nHello");
    say(&c, 0, "BDAT 8 LAST\r\n World!\n");
    say(&c, 1, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
    /* a DATA the server refuses: the next line is a command again */
    say(&c, 0, "MAIL FROM:<u@a.example>\r\nRCPT TO:<nobody@b.example>\r\nDATA\r\n");
    say(&c, 1, "250 ok\r\n550 no such user\r\n554 no valid recipients\r\n");
    say(&c, 0, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
    say(&c, 1, "235 ok\r\n");
    say(&c, 0, "MAIL FROM:<w@a.example>\r\n");
    assert_int_equal(feed(&c, 0, g), 0);
    assert_int_equal(g->n_objs, 1);
    assert_int_equal(g->obj_len[0], 13);
    assert_memory_equal(g->obj[0], "Hello World!\n", 13);
    assert_int_equal(g->n_rec, 3);
    assert_non_null(strstr(g->rec[0], "\"auth\":\"LOGIN\",\"mail_from\":\"u@a.example\","
                                      "\"rcpt_to\":[\"v@b.example\"],\"message\":1,"
                                      "\"message_size\":13,\"bdat\":true}"));
    assert_non_null(strstr(g->rec[1], "\"rcpt_to\":[\"nobody@b.example\"],\"data_rejected\":554,"
                                      "\"aborted\":true}"));
    assert_non_null(strstr(g->rec[2], "\"auth\":\"PLAIN\",\"mail_from\":\"w@a.example\""));
    for (int i = 0; i < g->n_rec; i++) {
        assert_null(strstr(g->rec[i], "c2VjcmV0"));
        assert_null(strstr(g->rec[i], "AHVz"));
    }
    for (int i = 0; i < g->n_obs && i < MAXO; i++)
        assert_null(strstr(g->obs[i], "dXNlck"));
    assert_true(has_obs(g, "email", "smtp.mail_from", "w@a.example"));
    same_for_pieces(&c, g, NULL);
    conv_write_seed(&c, "auth_bdat");
    got_free(g);
    conv_free(&c);
    /* an empty BDAT message: a record, no object (fuzz_smtp found memcpy to NULL here) */
    memset(&c, 0, sizeof(c));
    say(&c, 0, "EHLO a.example\r\nMAIL FROM:<u@a.example>\r\nBDAT 0 LAST\r\nQUIT\r\n");
    assert_int_equal(feed(&c, 0, g), 0);
    assert_int_equal(g->n_objs, 0);
    assert_int_equal(g->n_rec, 1);
    assert_non_null(strstr(g->rec[0], "\"message\":1,\"message_size\":0,\"bdat\":true}"));
    got_free(g);
    conv_free(&c);
    free(g);
}

static void gaps(void **state)
{
    (void)state;
    got *g = calloc(1, sizeof(*g));
    ab_net_out out = {g, on_obs, on_obj, on_rec, on_err};
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    void *st = ab_app_smtp.new_state(NULL);
    const char *c1 = "EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nDATA\r\nSubject: x\r\n\r\nbo";
    assert_int_equal(ab_app_smtp.data(st, &f, 0, (const uint8_t *)c1, strlen(c1), &out), 0);
    assert_int_equal(ab_app_smtp.gap(st, &f, 0, 1000, &out), 0);
    const char *c2 = "dy\r\n.\r\nRCPT TO:<q@a.example>\r\n";
    assert_int_equal(ab_app_smtp.data(st, &f, 0, (const uint8_t *)c2, strlen(c2), &out), 0);
    /* a gap in a command line: that line is dropped, the next is read */
    assert_int_equal(ab_app_smtp.gap(st, &f, 0, 10, &out), 0);
    const char *c3 = "T TO:<lost@a.example>\r\nMAIL FROM:<z@a.example>\r\n";
    assert_int_equal(ab_app_smtp.data(st, &f, 0, (const uint8_t *)c3, strlen(c3), &out), 0);
    ab_app_smtp.close(st, &f, &out);
    ab_app_smtp.free_state(st);
    assert_int_equal(g->n_objs, 1);
    assert_int_equal(g->obj_len[0], strlen("Subject: x\r\n\r\nbody\r\n"));
    assert_int_equal(g->n_rec, 3);
    assert_non_null(strstr(g->rec[0], "\"message_incomplete\":true"));
    assert_non_null(strstr(g->rec[1], "\"rcpt_to\":[\"q@a.example\"],\"aborted\":true"));
    assert_non_null(strstr(g->rec[2], "\"mail_from\":\"z@a.example\""));
    assert_false(has_obs(g, "email", "smtp.rcpt_to", "lost@a.example"));
    got_free(g);
    /* the flow ends inside DATA: what came is the object, incomplete */
    st = ab_app_smtp.new_state(NULL);
    const char *c4 = "HELO x\r\nMAIL FROM:<a@a.example>\r\nDATA\r\npartial";
    assert_int_equal(ab_app_smtp.data(st, &f, 0, (const uint8_t *)c4, strlen(c4), &out), 0);
    ab_app_smtp.close(st, &f, &out);
    ab_app_smtp.free_state(st);
    assert_int_equal(g->n_objs, 1);
    assert_int_equal(g->obj_len[0], 7);
    assert_non_null(strstr(g->rec[0], "\"message_incomplete\":true"));
    assert_false(has_obs(g, "domain", "smtp.helo", "x"));
    got_free(g);
    free(g);
}

static pki srv;

static void starttls(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 0, "mx.wellmail.test", 0, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, NULL, r);
    conv c;
    memset(&c, 0, sizeof(c));
    say(&c, 1, "220 mx.wellmail.test ESMTP\r\n");
    say(&c, 0, "EHLO relay.example.net\r\n");
    say(&c, 1, "250-mx.wellmail.test\r\n250 STARTTLS\r\n");
    say(&c, 0, "STARTTLS\r\n");
    say(&c, 1, "220 2.0.0 Ready to start TLS\r\n");
    for (int i = 0; i < r->c.n; i++)
        conv_add(&c, r->c.dir[i], r->c.data[i], r->c.len[i]);
    got *g = calloc(1, sizeof(*g));
    assert_int_equal(feed(&c, 0, g), 0);
    assert_int_equal(g->n_err, 0);
    assert_int_equal(g->n_rec, 2);
    /* the TLS parser's record, as part of smtp+tls */
    assert_non_null(strstr(g->rec[0], "{\"type\":\"tls\",\"version\":\"TLS 1.2\""));
    assert_non_null(strstr(g->rec[0], "\"sni\":\"mx.wellmail.test\""));
    char want[200];
    snprintf(want, sizeof(want), "\"sha256\":\"%s\"", srv.sha256);
    assert_non_null(strstr(g->rec[0], want));
    assert_string_equal(g->rec_app[0], "smtp+tls");
    assert_string_equal(g->rec[1], "{\"type\":\"smtp\",\"banner\":\"mx.wellmail.test ESMTP\","
                                   "\"helo\":\"relay.example.net\",\"helo_command\":\"EHLO\","
                                   "\"starttls\":true}");
    assert_string_equal(g->rec_app[1], "smtp+tls");
    assert_true(has_obs(g, "domain", "tls.sni", "mx.wellmail.test"));
    assert_true(has_obs(g, "cert-sha256", "tls.cert", srv.sha256));
    assert_true(has_obs(g, "domain", "smtp.helo", "relay.example.net"));
    same_for_pieces(&c, g, NULL);
    conv_write_seed(&c, "starttls");
    got_free(g);
    /* WellMail: TLS from the first byte on port 25 is not SMTP, and TLS claims it */
    assert_int_equal(ab_app_smtp.detect(r->c.data[0], r->c.len[0], AB_DIR_TO_SERVER), 0);
    assert_int_equal(ab_app_tls.detect(r->c.data[0], r->c.len[0], AB_DIR_TO_SERVER), 1);
    conv_free(&c);
    conv_free(&r->c);
    free(r);
    free(g);
}

static void detect_rules(void **state)
{
    (void)state;
    const ab_app_proto *p = &ab_app_smtp;
    assert_int_equal(p->detect((const uint8_t *)"220 mx", 6, AB_DIR_TO_CLIENT), 1);
    assert_int_equal(p->detect((const uint8_t *)"220-mx", 6, AB_DIR_TO_CLIENT), 1);
    assert_int_equal(p->detect((const uint8_t *)"22", 2, AB_DIR_TO_CLIENT), -1);
    assert_int_equal(p->detect((const uint8_t *)"220", 3, AB_DIR_TO_CLIENT), -1);
    assert_int_equal(p->detect((const uint8_t *)"250 ok", 6, AB_DIR_TO_CLIENT), 0);
    assert_int_equal(p->detect((const uint8_t *)"HTTP/1.1 200", 12, AB_DIR_TO_CLIENT), 0);
    assert_int_equal(p->detect((const uint8_t *)"ehlo x", 6, AB_DIR_TO_SERVER), 1);
    assert_int_equal(p->detect((const uint8_t *)"HeLo x", 6, AB_DIR_TO_SERVER), 1);
    assert_int_equal(p->detect((const uint8_t *)"EHL", 3, AB_DIR_TO_SERVER), -1);
    assert_int_equal(p->detect((const uint8_t *)"EHLOX", 5, AB_DIR_TO_SERVER), 0);
    assert_int_equal(p->detect((const uint8_t *)"GET / HTTP/1.1", 14, AB_DIR_TO_SERVER), 0);
    assert_int_equal(p->detect((const uint8_t *)"220 mx", 6, AB_DIR_TO_SERVER), 0);
    static const uint8_t tls[] = {22, 3, 1, 0, 200, 1};
    assert_int_equal(p->detect(tls, sizeof(tls), AB_DIR_TO_SERVER), 0);
    assert_int_equal(p->detect(tls, sizeof(tls), AB_DIR_TO_CLIENT), 0);
}

static int setup(void **state)
{
    (void)state;
    make_pki(&srv, "mx.wellmail.test", "DNS:mx.wellmail.test", 7);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_pki(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_and_message),
        cmocka_unit_test(two_transactions_rset_and_limits),
        cmocka_unit_test(auth_bdat_refused_data),
        cmocka_unit_test(gaps),
        cmocka_unit_test(starttls),
        cmocka_unit_test(detect_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
