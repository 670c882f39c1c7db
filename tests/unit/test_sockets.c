/* test_sockets.c: the /proc/net socket-table parser, table reading (overlong and hostile lines),
 * socket holders from /proc/PID/fd links, and ab_scan_connections on this process's own socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "host/sockets.h"
#include "report/console.h"
#include "report/json.h"

/* Real lines (Linux 6.x, x86-64). */
static const char TCP_HDR[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                              "retrnsmt   uid  timeout inode";
static const char TCP_EST[] = "   2: 0100007F:9BB8 0707A8C0:01BB 01 00000000:00000000 00:00000000 "
                              "00000000  1000        0 265201 1 00000000528f3b1e 20 0 0 10 -1"
                              "                    ";
static const char TCP_TW[] = "   3: 020200C0:9880 507100CB:0050 06 00000000:00000000 03:00000CE0 "
                             "00000000     0        0 0 3 0000000051b20838";
static const char TCP6_LISTEN[] = "   0: 00000000000000000000000001000000:0016 "
                                  "00000000000000000000000000000000:0000 0A 00000000:00000000 "
                                  "00:00000000 00000000     0        0 21474 1 0000000000000000 "
                                  "100 0 0 10 0";
static const char TCP6_MAPPED[] = "   1: 0000000000000000FFFF00000100007F:1F90 "
                                  "0000000000000000FFFF00000701A8C0:D431 01 00000000:00000000 "
                                  "00:00000000 00000000   33        0 99 1 0000000000000000 20 4 "
                                  "30 10 -1";
static const char UDP_UNCONN[] = "  512: 3500007F:0035 00000000:0000 07 00000000:00000000 "
                                 "00:00000000 00000000   101        0 18034 2 0000000000000000 0";

static int parse(const char *line, int v6, ab_sock *s)
{
    return ab_sock_parse_line(line, strlen(line), v6, s);
}

static void text(const ab_ipaddr *a, char *out)
{
    ab_ipaddr_format(a, out, AB_IPADDR_TEXT);
}

static void test_parse_lines(void **state)
{
    (void)state;
    ab_sock s;
    char a[AB_IPADDR_TEXT];
    assert_int_equal(parse(TCP_HDR, 0, &s), 0);
    assert_int_equal(parse(TCP_EST, 0, &s), 1);
    text(&s.local, a);
    assert_string_equal(a, "127.0.0.1");
    assert_int_equal(s.local_port, 0x9BB8);
    text(&s.remote, a);
    assert_string_equal(a, "192.168.7.7");
    assert_int_equal(s.remote_port, 443);
    assert_int_equal(s.state, 1);
    assert_int_equal(s.uid, 1000);
    assert_int_equal(s.inode, 265201);
    assert_string_equal(ab_sock_state_name(0, s.state), "ESTABLISHED");
    assert_int_equal(parse(TCP_TW, 0, &s), 1);
    assert_int_equal(s.inode, 0);
    text(&s.remote, a);
    assert_string_equal(a, "203.0.113.80");
    assert_string_equal(ab_sock_state_name(0, s.state), "TIME_WAIT");
    assert_int_equal(parse(TCP6_LISTEN, 1, &s), 1);
    text(&s.local, a);
    assert_string_equal(a, "::1");
    assert_int_equal(s.local_port, 22);
    assert_true(ab_ipaddr_is_unspecified(&s.remote));
    assert_string_equal(ab_sock_state_name(0, s.state), "LISTEN");
    /* a dual-stack socket's IPv4 peer: the mapped address is IPv4 */
    assert_int_equal(parse(TCP6_MAPPED, 1, &s), 1);
    assert_true(ab_ipaddr_is_v4(&s.remote));
    text(&s.remote, a);
    assert_string_equal(a, "192.168.1.7");
    assert_int_equal(s.remote_port, 0xD431);
    assert_int_equal(s.uid, 33);
    assert_int_equal(parse(UDP_UNCONN, 0, &s), 1);
    text(&s.local, a);
    assert_string_equal(a, "127.0.0.53");
    assert_int_equal(s.local_port, 53);
    assert_string_equal(ab_sock_state_name(1, s.state), "UNCONN");
    assert_string_equal(ab_sock_state_name(1, 1), "ESTABLISHED");
    assert_string_equal(ab_sock_state_name(0, 0), "UNKNOWN");
    assert_string_equal(ab_sock_state_name(0, 0xff), "UNKNOWN");
}

static void test_parse_hostile(void **state)
{
    (void)state;
    ab_sock s;
    static const char *const bad[] = {
        "",
        "   ",
        "garbage",
        /* too few fields */
        "   0: 0100007F:0277 00000000:0000 0A",
        /* slot without ':' or not a number */
        "   0 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        "   x: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        /* address of the wrong length, not hex, port of the wrong length */
        "   0: 100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        "   0: 0100007G:0277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        "   0: 0100007F:277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        "   0: 0100007F:02770 00000000:0000 0A 0:0 0:0 0 0 0 1",
        "   0: 0100007F-0277 00000000:0000 0A 0:0 0:0 0 0 0 1",
        /* state not two hex digits */
        "   0: 0100007F:0277 00000000:0000 A 0:0 0:0 0 0 0 1",
        "   0: 0100007F:0277 00000000:0000 ZZ 0:0 0:0 0 0 0 1",
        /* uid: negative, not decimal, over 32 bits */
        "   0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 -1 0 1",
        "   0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0x10 0 1",
        "   0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 4294967296 0 1",
        /* inode over 64 bits, or with trailing junk */
        "   0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 18446744073709551616",
        "   0: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 12a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], 0, &s) != -1)
            fail_msg("accepted '%s'", bad[i]);
    }
    /* the biggest values still fit */
    assert_int_equal(parse("   0: 0100007F:FFFF 00000000:0000 0A 0:0 0:0 0 4294967295 0 "
                           "18446744073709551615",
                           0, &s),
                     1);
    assert_int_equal(s.uid, 4294967295u);
    assert_int_equal(s.inode, UINT64_MAX);
    assert_int_equal(s.local_port, 65535);
    /* an IPv4 line in an IPv6 table and the other way round */
    assert_int_equal(parse(TCP_EST, 1, &s), -1);
    assert_int_equal(parse(TCP6_LISTEN, 0, &s), -1);
    /* a NUL inside a field */
    char nul[sizeof(TCP_EST)];
    memcpy(nul, TCP_EST, sizeof(nul));
    nul[8] = '\0';
    assert_int_equal(ab_sock_parse_line(nul, sizeof(nul) - 1, 0, &s), -1);
    /* over AB_SOCK_MAX_LINE: refused, even though it starts like a good line */
    char *longl = malloc(AB_SOCK_MAX_LINE + 2);
    assert_non_null(longl);
    memset(longl, ' ', AB_SOCK_MAX_LINE + 1);
    memcpy(longl, TCP_EST, strlen(TCP_EST));
    longl[AB_SOCK_MAX_LINE + 1] = '\0';
    assert_int_equal(ab_sock_parse_line(longl, AB_SOCK_MAX_LINE + 1, 0, &s), -1);
    assert_int_equal(ab_sock_parse_line(longl, AB_SOCK_MAX_LINE, 0, &s), 1);
    free(longl);
    assert_int_equal(ab_sock_parse_line(NULL, 0, 0, &s), -1);
}

typedef struct seen {
    int n;
    uint64_t inodes[16];
} seen;

static int collect(void *ctx, const ab_sock *s)
{
    seen *v = ctx;
    if (v->n < 16)
        v->inodes[v->n] = s->inode;
    v->n++;
    return 0;
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_read_table(void **state)
{
    (void)state;
    char dir[] = "/tmp/ab-sockets-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/tcp", dir);
    /* header, a good line, a 100 KiB line (dropped whole, not read as several lines), another
     * good line, a malformed one, and a last good line without '\n' */
    size_t cap = 200000, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    n += (size_t)snprintf(buf + n, cap - n, "%s\n%s\n", TCP_HDR, TCP_EST);
    memcpy(buf + n, TCP_EST, strlen(TCP_EST));
    n += strlen(TCP_EST);
    memset(buf + n, 'A', 100000);
    n += 100000;
    buf[n++] = '\n';
    n += (size_t)snprintf(buf + n, cap - n, "%s\nnot a socket line at all\n%s", TCP_TW, UDP_UNCONN);
    write_file(path, buf, n);
    seen v = {0};
    size_t bad = 0;
    assert_int_equal(ab_sock_read_table(path, 0, collect, &v, &bad), AB_OK);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.inodes[0], 265201);
    assert_int_equal(v.inodes[1], 0);
    assert_int_equal(v.inodes[2], 18034);
    assert_int_equal(bad, 2);
    /* a missing table (no IPv6) is AB_ERR_NOTFOUND; an empty one has no sockets */
    snprintf(path, sizeof(path), "%s/tcp6", dir);
    assert_int_equal(ab_sock_read_table(path, 1, collect, &v, &bad), AB_ERR_NOTFOUND);
    write_file(path, "", 0);
    memset(&v, 0, sizeof(v));
    assert_int_equal(ab_sock_read_table(path, 1, collect, &v, NULL), AB_OK);
    assert_int_equal(v.n, 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/tcp", dir);
    unlink(path);
    rmdir(dir);
    free(buf);
}

/* A fake proc root: PID/fd/N links with any text, as a hostile or odd process table could
 * show. */
static void test_owners_fake_proc(void **state)
{
    (void)state;
    char root[] = "/tmp/ab-proc-XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[256];
    static const struct {
        const char *pid, *fd, *target;
    } links[] = {
        {"100", "3", "socket:[42]"},
        {"100", "4", "socket:[43]"},
        {"200", "0", "socket:[42]"},
        {"200", "1", "socket:[18446744073709551616]"}, /* overflows: not a socket */
        {"200", "2", "socket:[42"},
        {"200", "5", "socket:[]"},
        {"200", "6", "/dev/null"},
        {"200", "7", "socket:[0042]x"},
        {"300", "9", "socket:[44]"},
        {"notapid", "1", "socket:[42]"},
    };
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, links[i].pid);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/%s/fd", root, links[i].pid);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/%s/fd/%s", root, links[i].pid, links[i].fd);
        assert_int_equal(symlink(links[i].target, p), 0);
    }
    snprintf(p, sizeof(p), "%s/400", root); /* a process without an fd folder (exited) */
    mkdir(p, 0755);
    const uint64_t want[] = {42, 43};
    ab_sock_owners o;
    assert_int_equal(ab_sock_find_owners(root, want, 2, &o), AB_OK);
    assert_int_equal(o.len, 3);
    size_t first = 0;
    assert_int_equal(ab_sock_owners_of(&o, 42, &first), 2);
    assert_int_equal(o.v[first].pid, 100);
    assert_int_equal(o.v[first + 1].pid, 200);
    assert_int_equal(ab_sock_owners_of(&o, 43, &first), 1);
    assert_int_equal(o.v[first].pid, 100);
    assert_int_equal(ab_sock_owners_of(&o, 44, &first), 0); /* held, but not asked for */
    assert_int_equal(o.unreadable, 0);
    ab_sock_owners_release(&o);
    snprintf(p, sizeof(p), "%s/missing", root);
    assert_int_equal(ab_sock_find_owners(p, want, 2, &o), AB_ERR_IO);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* A listening socket and a connection to it, in this process. */
typedef struct pair {
    int lfd, cfd, afd;
    unsigned port;
    uint64_t cino;
} pair;

static void open_pair(pair *p)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->lfd >= 0);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(p->lfd, 1), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &len), 0);
    p->port = ntohs(sa.sin_port);
    p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(p->cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    p->afd = accept(p->lfd, NULL, NULL);
    assert_true(p->afd >= 0);
    struct stat st;
    assert_int_equal(fstat(p->cfd, &st), 0);
    p->cino = (uint64_t)st.st_ino;
}

static void close_pair(pair *p)
{
    close(p->afd);
    close(p->cfd);
    close(p->lfd);
}

static void test_owners_real(void **state)
{
    (void)state;
    pair p;
    open_pair(&p);
    ab_sock_owners o;
    assert_int_equal(ab_sock_find_owners(NULL, &p.cino, 1, &o), AB_OK);
    size_t first = 0;
    assert_int_equal(ab_sock_owners_of(&o, p.cino, &first), 1);
    assert_int_equal(o.v[first].pid, getpid());
    ab_sock_owners_release(&o);
    close_pair(&p);
}

typedef struct got {
    int findings, summaries, mine;
    uint64_t objects, summary_findings;
    char reason[256];
} got;

static unsigned want_port;

static int sink(void *ctx, const ab_event *ev)
{
    got *g = ctx;
    if (ev->kind == AB_EVENT_FINDING) {
        const ab_finding *f = &ev->u.finding;
        g->findings++;
        assert_int_equal(f->matcher, AB_MATCHER_CONNECTION);
        assert_non_null(f->conn);
        /* our client socket: pid known, remote end is the listener */
        if (f->obj.pid == getpid() && f->conn->remote_port == want_port &&
            !strcmp(f->conn->matched, "remote")) {
            g->mine++;
            assert_string_equal(f->conn->protocol, "tcp");
            assert_string_equal(f->conn->remote_addr, "127.0.0.1");
            assert_string_equal(f->conn->state, "ESTABLISHED");
            assert_string_equal(f->rule, "127.0.0.0/8");
            assert_int_equal(f->score, 70);
            snprintf(g->reason, sizeof(g->reason), "%s", f->reason);
        }
    } else if (ev->kind == AB_EVENT_SUMMARY) {
        g->summaries++;
        g->objects = ev->u.summary.objects;
        g->summary_findings = ev->u.summary.findings;
    }
    return 0;
}

static ab_scanner *scanner_with(const char *ioc_text)
{
    char path[] = "/tmp/ab-conn-XXXXXX.ioc";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ioc_text, strlen(ioc_text)), (ssize_t)strlen(ioc_text));
    close(fd);
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_iocs(sc, path, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    unlink(path);
    return sc;
}

static void test_scan_connections(void **state)
{
    (void)state;
    pair p;
    open_pair(&p);
    want_port = p.port;
    ab_scanner *sc = scanner_with("cidr\t127.0.0.0/8\tloopback\t\t70\n"
                                  "domain\tevil.example\n"
                                  "md5\t0123456789abcdef0123456789abcdef\n");
    /* ip and cidr count as unmatched unless the scan looks at connections or files (whose
     * observables match them, and the domain too) */
    assert_int_equal(ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_FILES), 0);
    assert_int_equal(ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_PROCESSES), 2);
    assert_int_equal(ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_CONNECTIONS), 1);
    assert_int_equal(ab_scanner_ioc_count_unmatched(sc, AB_SCOPE_PROCESSES | AB_SCOPE_CONNECTIONS),
                     1);
    got g = {0};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_connections(sc, &s), AB_OK);
    assert_int_equal(g.mine, 1);
    assert_int_equal(g.summaries, 1);
    assert_true(g.objects >= 3); /* at least the listener and both ends */
    assert_true(g.findings >= 3);
    assert_int_equal(g.summary_findings, (uint64_t)g.findings);
    assert_string_equal(g.reason, "remote address is in a cidr IOC");
    /* scopes ab_scan_host does not take */
    assert_int_equal(ab_scan_host(sc, AB_SCOPE_FILES, NULL, 0, &s), AB_ERR_ARG);
    assert_int_equal(ab_scan_host(sc, 0, NULL, 0, &s), AB_ERR_ARG);
    ab_scanner_free(sc);
    /* an address that no socket has: no finding, the sockets are still counted */
    sc = scanner_with("ip\t192.0.2.123\n");
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_scan_connections(sc, &s), AB_OK);
    assert_int_equal(g.findings, 0);
    assert_true(g.objects >= 3);
    /* a cancel made before the scan stops it at once */
    ab_scanner_cancel(sc);
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_scan_connections(sc, &s), AB_OK);
    assert_int_equal(g.objects, 0);
    assert_int_equal(g.summaries, 1);
    ab_scanner_free(sc);
    close_pair(&p);
}

/* The reporters show the connection: a "connection" object in JSON, a " tcp A:P -> B:Q STATE"
 * tail on the console line (IPv6 in brackets). */
static void test_reporters(void **state)
{
    (void)state;
    ab_connection c = {"tcp6",        "2001:db8::5", 51234, "192.0.2.7", 443,
                       "ESTABLISHED", 777,           1000,  "remote"};
    const char *loc[1] = {"pid:42"};
    ab_event ev = {.kind = AB_EVENT_FINDING, .time = 1.0};
    ab_finding *f = &ev.u.finding;
    f->obj.path = "pid:42";
    f->obj.location = loc;
    f->obj.location_len = 1;
    f->obj.pid = 42;
    f->obj.process_name = "beacon";
    f->obj.cmdline = "./beacon -q";
    f->matcher = AB_MATCHER_CONNECTION;
    f->rule = "192.0.2.7";
    f->rule_namespace = "c2.ioc:3";
    f->score = 80;
    f->severity = "high";
    f->reason = "remote address is an ip IOC";
    f->conn = &c;
    ab_buf b;
    ab_buf_init(&b, 0);
    assert_int_equal(ab_jsonl_event(&b, &ev), AB_OK);
    assert_non_null(strstr(b.data, "\"matcher\":\"connection\""));
    assert_non_null(strstr(b.data, "\"pid\":42"));
    assert_non_null(strstr(
        b.data, "\"connection\":{\"protocol\":\"tcp6\",\"local_address\":\"2001:db8::5\","
                "\"local_port\":51234,\"remote_address\":\"192.0.2.7\",\"remote_port\":443,"
                "\"state\":\"ESTABLISHED\",\"inode\":777,\"uid\":1000,\"matched\":\"remote\"}"));
    ab_buf_release(&b);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    ab_console con = {.out = out, .err = stderr};
    ab_console_event(&con, &ev);
    fclose(out);
    assert_non_null(strstr(
        text, "[HIGH] pid:42 (beacon: ./beacon -q): 192.0.2.7 (connection; "
              "score 80; process 0 info) remote address is an ip IOC tcp6 [2001:db8::5]:51234 "
              "-> 192.0.2.7:443 ESTABLISHED\n"));
    free(text);
    /* other matchers have no connection */
    f->conn = NULL;
    f->matcher = AB_MATCHER_HASH;
    ab_buf_init(&b, 0);
    assert_int_equal(ab_jsonl_event(&b, &ev), AB_OK);
    assert_null(strstr(b.data, "\"connection\""));
    ab_buf_release(&b);
    assert_string_equal(ab_matcher_name(AB_MATCHER_CONNECTION), "connection");
}

static int setup(void **state)
{
    (void)state;
    return ab_init() == AB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ab_finish();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lines), cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_read_table),  cmocka_unit_test(test_owners_fake_proc),
        cmocka_unit_test(test_owners_real), cmocka_unit_test(test_scan_connections),
        cmocka_unit_test(test_reporters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
