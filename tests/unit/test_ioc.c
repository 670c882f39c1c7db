/* test_ioc.c: the IOC store: native format, Loki/THOR lists, limits, files and folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intel/ioc.h"

/* ---- Helpers --------------------------------------------------------------------------------- */

typedef struct diags {
    int n;
    int warnings; /* how many of the n were AB_DIAG_WARNING */
    char where[64][128];
    char msg[64][256];
} diags;

static void collect(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    diags *d = ctx;
    if (level == AB_DIAG_WARNING)
        d->warnings++;
    if (d->n < 64) {
        snprintf(d->where[d->n], sizeof(d->where[0]), "%s", where);
        snprintf(d->msg[d->n], sizeof(d->msg[0]), "%s", msg);
    }
    d->n++;
}

static int diag_has(const diags *d, const char *where, const char *needle)
{
    for (int i = 0; i < d->n && i < 64; i++) {
        if ((!where || strcmp(d->where[i], where) == 0) && strstr(d->msg[i], needle))
            return 1;
    }
    return 0;
}

static ab_status load(ab_iocs *s, const char *text, ab_ioc_format fmt, const char *name, int strict,
                      diags *d, size_t *bad)
{
    return ab_iocs_load_buffer(s, text, strlen(text), fmt, name, 0, strict, collect, d, bad);
}

/* malloc that never returns NULL (the compiler sees it, unlike cmocka's assert). */
static char *xmalloc(size_t n)
{
    char *p = calloc(1, n);
    if (!p)
        abort();
    return p;
}

static ab_iocs *store(void)
{
    ab_iocs *s = NULL;
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    return s;
}

static const ab_ioc *only(const ab_iocs *s, ab_ioc_type t)
{
    assert_int_equal(ab_iocs_count(s, t), 1);
    return ab_iocs_get(s, t, 0);
}

static const char *MD5 = "0123456789abcdef0123456789abcdef";
static const char *SHA1 = "0123456789abcdef0123456789abcdef01234567";
static const char *SHA256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* ---- Type names and file names --------------------------------------------------------------- */

static void test_type_names(void **state)
{
    (void)state;
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++) {
        const char *name = ab_ioc_type_name((ab_ioc_type)t);
        assert_int_equal(ab_ioc_type_from_name(name, strlen(name)), t);
    }
    assert_int_equal(ab_ioc_type_from_name("SHA256", 6), AB_IOC_SHA256);
    assert_int_equal(ab_ioc_type_from_name("md5x", 4), -1);
    assert_int_equal(ab_ioc_type_from_name("md5x", 3), AB_IOC_MD5);
    assert_string_equal(ab_ioc_type_name(AB_IOC_TYPE_COUNT), "unknown");
}

static void test_format_for_name(void **state)
{
    (void)state;
    int allow = -1;
    assert_int_equal(ab_ioc_format_for_name("hash-iocs.txt", &allow, 1), AB_IOC_FMT_LOKI_HASH);
    assert_int_equal(allow, 0);
    assert_int_equal(ab_ioc_format_for_name("falsepositive-hashes.txt", &allow, 1),
                     AB_IOC_FMT_LOKI_HASH);
    assert_int_equal(allow, 1);
    assert_int_equal(ab_ioc_format_for_name("FileName-IOCs.TXT", &allow, 1),
                     AB_IOC_FMT_LOKI_FILENAME);
    assert_int_equal(allow, 0);
    assert_int_equal(ab_ioc_format_for_name("otx-c2-iocs.txt", &allow, 1), AB_IOC_FMT_LOKI_C2);
    assert_int_equal(ab_ioc_format_for_name("case-c2.ioc", &allow, 1), AB_IOC_FMT_NATIVE);
    assert_int_equal(ab_ioc_format_for_name("apt.IOC", &allow, 1), AB_IOC_FMT_NATIVE);
    assert_int_equal(ab_ioc_format_for_name("README.md", &allow, 1), AB_IOC_FMT_AUTO);
    assert_int_equal(ab_ioc_format_for_name("README.md", &allow, 0), AB_IOC_FMT_NATIVE);
    assert_int_equal(ab_ioc_format_for_name("hash-falsepositive.ioc", &allow, 1),
                     AB_IOC_FMT_NATIVE);
    assert_int_equal(allow, 1);
}

/* ---- Native format: good lines of every type ------------------------------------------------- */

static void test_native_good(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 99;
    char text[4096];
    snprintf(text, sizeof(text),
             "# a comment\n"
             "\n"
             "   \t \n"
             "md5\t%s\tdesc\tref\t55\tFamilyX\n"
             "SHA1\t%s\n"
             "sha256 %s  \n"
             "filename-regex\t/tmp/evil\\.sh$\tdropper\t\t90\n"
             "ip\t192.0.2.1\n"
             "ip\t2001:DB8:0:0:0:0:0:1\n"
             "cidr\t10.1.2.3/8\n"
             "cidr\t2001:db8::1/32\n"
             "domain\tEvil.Example.COM.\n"
             "domain\t*.bad.example\n"
             "url\tHTTPS://Evil.Example/Path?Q=A\n"
             "email\tBoss@Example.ORG\n"
             "ja3\t%s\n"
             "ja3s\t%s\n"
             "cert-sha1\t01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67\n"
             "cert-sha256\t%s\n"
             "  # indented comment\n",
             MD5, SHA1, SHA256, MD5, MD5, SHA256);
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "good.ioc", 1, &d, &bad), AB_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(d.n, 0);

    const ab_ioc *i = only(s, AB_IOC_MD5);
    assert_string_equal(i->value, MD5);
    assert_string_equal(i->description, "desc");
    assert_string_equal(i->reference, "ref");
    assert_int_equal(i->score, 55);
    assert_string_equal(i->family, "FamilyX");
    assert_string_equal(i->source, "good.ioc:4");
    assert_int_equal(i->allow, 0);

    i = only(s, AB_IOC_SHA1);
    assert_null(i->description);
    assert_null(i->reference);
    assert_null(i->family);
    assert_int_equal(i->score, 80);
    assert_string_equal(only(s, AB_IOC_SHA256)->value, SHA256);

    i = only(s, AB_IOC_FILENAME_RE);
    assert_string_equal(i->value, "/tmp/evil\\.sh$");
    assert_string_equal(i->description, "dropper");
    assert_null(i->reference);
    assert_int_equal(i->score, 90);

    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), 2);
    assert_string_equal(ab_iocs_get(s, AB_IOC_IP, 0)->value, "192.0.2.1");
    assert_string_equal(ab_iocs_get(s, AB_IOC_IP, 1)->value, "2001:db8::1");
    assert_int_equal(ab_iocs_count(s, AB_IOC_CIDR), 2);
    assert_string_equal(ab_iocs_get(s, AB_IOC_CIDR, 0)->value, "10.0.0.0/8");
    assert_string_equal(ab_iocs_get(s, AB_IOC_CIDR, 1)->value, "2001:db8::/32");
    assert_int_equal(ab_iocs_count(s, AB_IOC_DOMAIN), 2);
    assert_string_equal(ab_iocs_get(s, AB_IOC_DOMAIN, 0)->value, "evil.example.com");
    assert_string_equal(ab_iocs_get(s, AB_IOC_DOMAIN, 1)->value, "*.bad.example");
    assert_string_equal(only(s, AB_IOC_URL)->value, "https://evil.example/Path?Q=A");
    assert_string_equal(only(s, AB_IOC_EMAIL)->value, "boss@example.org");
    assert_string_equal(only(s, AB_IOC_JA3)->value, MD5);
    assert_string_equal(only(s, AB_IOC_JA3S)->value, MD5);
    assert_string_equal(only(s, AB_IOC_CERT_SHA1)->value,
                        "0123456789abcdef0123456789abcdef01234567");
    assert_string_equal(only(s, AB_IOC_CERT_SHA256)->value, SHA256);
    assert_int_equal(ab_iocs_total(s), 16);
    assert_true(ab_iocs_has_hashes(s));
    ab_iocs_free(s);
}

/* ---- Native format: bad lines of every type -------------------------------------------------- */

static const char *const bad_native[] = {
    "md5\t0123456789abcdef",                  /* short */
    "md5\t0123456789abcdef0123456789abcdeg",  /* not hex */
    "sha1\t0123456789abcdef0123456789abcdef", /* md5 length */
    "sha256\tzz",                             /* not hex, short */
    "ip\t1.2.3.256",                          /* octet out of range */
    "ip\tevil.example",                       /* a domain */
    "ip\tfe80::1%eth0",                       /* zone id */
    "cidr\t10.0.0.0/33",                      /* prefix too long */
    "cidr\t10.0.0.0/",                        /* no prefix */
    "cidr\t::/129",                           /* prefix too long */
    "cidr\t10.0.0.0",                         /* no slash */
    "domain\ta..b",                           /* empty label */
    "domain\tbad!char.example",               /* bad character */
    "domain\t1.2.3.999",                      /* numeric last label */
    "domain\t*.",                             /* empty after the wildcard */
    "url\tevil.example/x",                    /* no scheme */
    "url\thttp://",                           /* no host */
    "url\thttp://a b/",                       /* space */
    "email\tnoat.example",                    /* no @ */
    "email\ta@b@c.example",                   /* two @ */
    "email\t@example.org",                    /* empty local part */
    "email\tme@bad_domain!",                  /* bad domain */
    "ja3\t0123",                              /* short */
    "ja3s\txyz",                              /* not hex */
    "cert-sha1\t01:23",                       /* short */
    "cert-sha256\t0123456789abcdef",          /* short */
    "bogus\tvalue",                           /* unknown type */
    "md5",                                    /* no value */
    "md5\t",                                  /* empty value */
    "\tvalue",                                /* empty type */
    "ip\t192.0.2.1\td\tr\t80\tfam\textra",    /* 7 fields */
    "ip\t192.0.2.1\td\tr\t101",               /* score too high */
    "ip\t192.0.2.1\td\tr\t-1",                /* score not a number */
    "ip\t192.0.2.1\td\tr\tabc",               /* score not a number */
};

static void test_native_bad(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t n = sizeof(bad_native) / sizeof(bad_native[0]);
    char *text = xmalloc(16384);
    for (size_t i = 0; i < n; i++) {
        strcat(text, bad_native[i]);
        strcat(text, "\n");
    }
    strcat(text, "ip\t192.0.2.7\n"); /* a good line after the bad ones still loads */
    size_t bad = 0;
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "bad.ioc", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, n);
    assert_int_equal(d.n, (int)n);
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof(where), "bad.ioc:%zu", i + 1);
        assert_string_equal(d.where[i], where);
    }
    assert_true(diag_has(&d, "bad.ioc:27", "unknown type 'bogus'"));
    assert_true(diag_has(&d, "bad.ioc:31", "more than 6"));
    assert_true(diag_has(&d, "bad.ioc:32", "score"));
    assert_int_equal(ab_iocs_total(s), 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), 1);
    free(text);
    ab_iocs_free(s);
}

static void test_native_regex_too_long(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    char *text = xmalloc(6000);
    strcpy(text, "filename-regex\t");
    memset(text + 15, 'a', 5000);
    strcpy(text + 15 + 5000, "\nfilename-regex\tok\\.exe\n");
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "re.ioc", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, 1);
    assert_true(diag_has(&d, "re.ioc:1", "4096"));
    assert_int_equal(ab_iocs_count(s, AB_IOC_FILENAME_RE), 1);
    free(text);
    ab_iocs_free(s);
}

static void test_native_strict(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    const char *text = "ip\t192.0.2.1\nip\t192.0.2.300\nip\t192.0.2.3\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "s.ioc", 1, &d, &bad), AB_ERR_PARSE);
    assert_int_equal(bad, 1);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.where[0], "s.ioc:2");
    /* A failed load leaves the store as it was. */
    assert_int_equal(ab_iocs_total(s), 0);
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "s.ioc", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), 2);
    ab_iocs_free(s);
}

static void test_empty_file_hash_ignored(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    const char *text = "md5\tD41D8CD98F00B204E9800998ECF8427E\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "e.ioc", 1, &d, &bad), AB_OK);
    /* Silently, as Loki does: not malformed, and the CLI counts diagnostics as errors. */
    assert_int_equal(bad, 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(ab_iocs_total(s), 0);
    ab_iocs_free(s);
}

/* ---- Loki hash lists ------------------------------------------------------------------------- */

static void test_loki_hash(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    char text[2048];
    snprintf(text, sizeof(text),
             "# LOKI hashes\n"
             "\n"
             "%s;Two fields\n"
             "%s;75;Three fields\n"
             "%s;APT report; part 2; see ref\n"
             "0123456789ABCDEF0123456789ABCDEF01234567;\n"
             "%s;12x;not a score\n"
             "%s;150;score too high\n"
             "0123;short\n"
             "d41d8cd98f00b204e9800998ecf8427e;empty file\n",
             MD5, SHA256, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
             "11111111111111111111111111111111", "22222222222222222222222222222222");
    assert_int_equal(load(s, text, AB_IOC_FMT_LOKI_HASH, "hash-iocs.txt", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, 2);
    assert_true(diag_has(&d, "hash-iocs.txt:8", "score"));
    assert_true(diag_has(&d, "hash-iocs.txt:9", "not an MD5"));
    assert_int_equal(d.n, 2); /* the empty-file hash is skipped silently */

    assert_int_equal(ab_iocs_count(s, AB_IOC_MD5), 2);
    const ab_ioc *i = ab_iocs_get(s, AB_IOC_MD5, 0);
    assert_string_equal(i->value, MD5);
    assert_string_equal(i->description, "Two fields");
    assert_int_equal(i->score, 100);
    assert_string_equal(i->source, "hash-iocs.txt:3");
    i = ab_iocs_get(s, AB_IOC_MD5, 1);
    assert_string_equal(i->description, "12x;not a score");
    assert_int_equal(i->score, 100);

    assert_int_equal(ab_iocs_count(s, AB_IOC_SHA256), 2);
    i = ab_iocs_get(s, AB_IOC_SHA256, 0);
    assert_string_equal(i->description, "Three fields");
    assert_int_equal(i->score, 75);
    i = ab_iocs_get(s, AB_IOC_SHA256, 1);
    assert_string_equal(i->description, "APT report; part 2; see ref");
    assert_int_equal(i->score, 100);

    i = only(s, AB_IOC_SHA1);
    assert_string_equal(i->value, "0123456789abcdef0123456789abcdef01234567");
    assert_null(i->description);
    ab_iocs_free(s);
}

static void test_loki_hash_allow_list(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    char text[512];
    snprintf(text, sizeof(text), "%s;known good tool\n%s;0;also good\n", MD5, SHA1);
    /* AUTO picks the format and the allow flag from the name. */
    assert_int_equal(load(s, text, AB_IOC_FMT_AUTO, "/x/falsepositive-hashes.txt", 1, &d, &bad),
                     AB_OK);
    assert_int_equal(ab_iocs_count(s, AB_IOC_MD5), 0);
    assert_int_equal(ab_iocs_count(s, AB_IOC_SHA1), 0);
    assert_int_equal(ab_iocs_total(s), 2);
    assert_true(ab_iocs_has_hashes(s));
    assert_int_equal(ab_iocs_compile(s, collect, &d), AB_OK);
    assert_true(ab_iocs_allowed(s, MD5, NULL, NULL));
    assert_true(ab_iocs_allowed(s, NULL, SHA1, NULL));
    assert_true(ab_iocs_allowed(s, "0123456789ABCDEF0123456789ABCDEF", NULL, NULL));
    assert_false(ab_iocs_allowed(s, NULL, NULL, SHA256));
    assert_false(ab_iocs_allowed(s, "ffffffffffffffffffffffffffffffff", NULL, NULL));
    assert_false(ab_iocs_allowed(s, "0123", NULL, NULL));
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, MD5));
    ab_iocs_free(s);

    /* Only hashes belong on an allow-list. */
    s = store();
    d.n = 0;
    assert_int_equal(ab_iocs_load_buffer(s, "ip\t192.0.2.1\n", 13, AB_IOC_FMT_NATIVE, "a.ioc", 1, 0,
                                         collect, &d, &bad),
                     AB_OK);
    assert_int_equal(bad, 1);
    assert_int_equal(ab_iocs_total(s), 0);
    ab_iocs_free(s);
}

/* ---- Loki filename lists --------------------------------------------------------------------- */

static void test_loki_filename(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    const char *text = "#\n"
                       "# Regin\n"
                       "\\\\usbclass\\.sys;80\n"
                       "\\\\Windows\\\\Temp\\\\evil\\.exe;65\n"
                       "\n"
                       "# With exceptions\n"
                       "\\\\procdump\\.exe;50;(?i)\\\\SysInternals\\\\\n"
                       "(?i)^C:\\\\Temp\\\\x;70\n"
                       "[Cc]:\\\\Inetpub\\.lnk;55\n"
                       "\\\\a[;]b\\.exe;60\n"
                       "\\\\x[^\\\\]{,20}\\.exe;45\n"
                       "\\\\old-line-without-score\\.jsp\n"
                       "\\\\y\\.exe;101\n"
                       "\\\\y\\.exe;abc\n"
                       ";50\n"
                       "\\\\fp\\.exe;60;a;b\n"
                       "#\n"
                       "\\\\nodesc;40\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_LOKI_FILENAME, "filename-iocs.txt", 0, &d, &bad),
                     AB_OK);
    assert_int_equal(bad, 3);
    assert_true(diag_has(&d, "filename-iocs.txt:13", "score"));
    assert_true(diag_has(&d, "filename-iocs.txt:14", "REGEX;SCORE"));
    assert_true(diag_has(&d, "filename-iocs.txt:15", "empty regex"));
    assert_int_equal(ab_iocs_count(s, AB_IOC_FILENAME_RE), 10);

    const ab_ioc *i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 0);
    assert_string_equal(i->value, "/usbclass\\.sys");
    assert_string_equal(i->description, "Regin");
    assert_int_equal(i->score, 80);
    assert_null(i->fp_regex);
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 1);
    assert_string_equal(i->value, "/Windows/Temp/evil\\.exe");
    assert_string_equal(i->description, "Regin");
    assert_int_equal(i->score, 65);
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 2);
    assert_string_equal(i->value, "/procdump\\.exe");
    assert_string_equal(i->fp_regex, "(?i)/SysInternals/");
    assert_string_equal(i->description, "With exceptions");
    assert_int_equal(i->score, 50);
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 3);
    assert_string_equal(i->value, "(?i)^/Temp/x");
    assert_null(i->fp_regex); /* no sticky false-positive regex from the line before */
    /* a file in the drive's root: anchored to "/" */
    assert_string_equal(ab_iocs_get(s, AB_IOC_FILENAME_RE, 4)->value, "^/Inetpub\\.lnk");
    assert_string_equal(ab_iocs_get(s, AB_IOC_FILENAME_RE, 5)->value, "/a[;]b\\.exe");
    assert_string_equal(ab_iocs_get(s, AB_IOC_FILENAME_RE, 6)->value, "/x[^/]{0,20}\\.exe");
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 7);
    assert_string_equal(i->value, "/old-line-without-score\\.jsp");
    assert_int_equal(i->score, 80);
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 8);
    assert_string_equal(i->value, "/fp\\.exe");
    assert_string_equal(i->fp_regex, "a;b");
    i = ab_iocs_get(s, AB_IOC_FILENAME_RE, 9);
    assert_null(i->description); /* an empty "#" line ends the description */
    assert_int_equal(i->score, 40);
    ab_iocs_free(s);
}

/* ---- Loki c2 lists --------------------------------------------------------------------------- */

static void test_loki_c2(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    /* signature-base's own c2 list is "C2;COMMENT" (lines 12, 14, 15); "IOC;SCORE[;DESC]" too. */
    const char *text = "# FireEye Operation Snowman\n"
                       "Suroot.COM\n"
                       "58.64.143.244\n"
                       "10.1.0.0/16;90\n"
                       "2001:db8::dead:beef\n"
                       "a.b\n"
                       "abc\n"
                       "\n"
                       "# Second block\n"
                       "me.scieron.com;75\n"
                       "not a domain!\n"
                       "evil.example;x\n"
                       "1.2.3.4/40\n"
                       "dll.freshdns.org;;FireEye report https://r.example/a;b\n"
                       "58.64.143.245;FireEye Operation Snowman\n"
                       "bad.example.org;101\n"
                       "ok.example.org ; 70 ; Seen in 2020\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_LOKI_C2, "c2-iocs.txt", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, 5);
    assert_true(diag_has(&d, "c2-iocs.txt:6", "shorter than 4"));
    assert_true(diag_has(&d, "c2-iocs.txt:7", "shorter than 4"));
    assert_true(diag_has(&d, "c2-iocs.txt:11", "not an IP, CIDR or domain"));
    assert_true(diag_has(&d, "c2-iocs.txt:13", "prefix"));
    assert_true(diag_has(&d, "c2-iocs.txt:16", "score"));

    assert_int_equal(ab_iocs_count(s, AB_IOC_DOMAIN), 5);
    const ab_ioc *i = ab_iocs_get(s, AB_IOC_DOMAIN, 0);
    assert_string_equal(i->value, "suroot.com");
    assert_string_equal(i->description, "FireEye Operation Snowman");
    assert_int_equal(i->score, 80);
    i = ab_iocs_get(s, AB_IOC_DOMAIN, 1);
    assert_string_equal(i->value, "me.scieron.com");
    assert_string_equal(i->description, "Second block");
    assert_int_equal(i->score, 75);
    i = ab_iocs_get(s, AB_IOC_DOMAIN, 2);
    assert_string_equal(i->value, "evil.example");
    assert_string_equal(i->description, "x");
    assert_int_equal(i->score, 80);
    i = ab_iocs_get(s, AB_IOC_DOMAIN, 3);
    assert_string_equal(i->value, "dll.freshdns.org");
    assert_string_equal(i->description, "FireEye report https://r.example/a;b");
    i = ab_iocs_get(s, AB_IOC_DOMAIN, 4);
    assert_string_equal(i->value, "ok.example.org");
    assert_string_equal(i->description, "Seen in 2020");
    assert_int_equal(i->score, 70);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), 3);
    assert_string_equal(ab_iocs_get(s, AB_IOC_IP, 0)->value, "58.64.143.244");
    assert_string_equal(ab_iocs_get(s, AB_IOC_IP, 1)->value, "2001:db8::dead:beef");
    i = ab_iocs_get(s, AB_IOC_IP, 2);
    assert_string_equal(i->value, "58.64.143.245");
    assert_string_equal(i->description, "FireEye Operation Snowman");
    i = only(s, AB_IOC_CIDR);
    assert_string_equal(i->value, "10.1.0.0/16");
    assert_int_equal(i->score, 90);
    assert_string_equal(i->description, "FireEye Operation Snowman");
    ab_iocs_free(s);
}

/* ---- Compile: hash look-up and dedupe -------------------------------------------------------- */

static void test_hash_lookup_and_dedupe(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    const char *text = "md5\tFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\tfirst\n"
                       "md5\t00000000000000000000000000000001\n"
                       "md5\tffffffffffffffffffffffffffffffff\tsecond\n"
                       "md5\t7fffffffffffffffffffffffffffffff\n"
                       "sha256\tABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n"
                       "ja3\t0123456789ABCDEF0123456789abcdef\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "h.ioc", 1, &d, &bad), AB_OK);
    assert_int_equal(ab_iocs_count(s, AB_IOC_MD5), 4);
    /* Not compiled yet: no look-ups. */
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, "ffffffffffffffffffffffffffffffff"));
    assert_int_equal(ab_iocs_compile(s, collect, &d), AB_OK);
    assert_int_equal(ab_iocs_count(s, AB_IOC_MD5), 3);
    assert_int_equal(ab_iocs_total(s), 5);

    const ab_ioc *i = ab_iocs_find_hash(s, AB_IOC_MD5, "ffffffffffffffffffffffffffffffff");
    assert_non_null(i);
    assert_string_equal(i->description, "first"); /* the first of duplicates is kept */
    assert_string_equal(i->source, "h.ioc:1");
    assert_non_null(ab_iocs_find_hash(s, AB_IOC_MD5, "00000000000000000000000000000001"));
    assert_non_null(ab_iocs_find_hash(s, AB_IOC_MD5, "7fffffffffffffffffffffffffffffff"));
    assert_non_null(ab_iocs_find_hash(s, AB_IOC_MD5, "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, "00000000000000000000000000000002"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, "0000000000000000000000000000000"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, "000000000000000000000000000000011"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_SHA1, "00000000000000000000000000000001"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_IP, "00000000000000000000000000000001"));
    assert_null(ab_iocs_find_hash(s, AB_IOC_MD5, NULL));
    assert_non_null(ab_iocs_find_hash(
        s, AB_IOC_SHA256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
    assert_non_null(ab_iocs_find_hash(s, AB_IOC_JA3, "0123456789abcdef0123456789abcdef"));
    /* Sorted after compile. */
    for (size_t k = 1; k < ab_iocs_count(s, AB_IOC_MD5); k++)
        assert_true(strcmp(ab_iocs_get(s, AB_IOC_MD5, k - 1)->value,
                           ab_iocs_get(s, AB_IOC_MD5, k)->value) < 0);
    /* Frozen. */
    assert_int_equal(ab_iocs_compile(s, collect, &d), AB_ERR_ARG);
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "h.ioc", 0, &d, &bad), AB_ERR_ARG);
    ab_iocs_free(s);
}

/* ---- Limits and odd bytes -------------------------------------------------------------------- */

static void test_long_line(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    size_t big = 70 << 10;
    char *text = xmalloc(big + 64);
    memcpy(text, "url\thttp://x/", 13);
    memset(text + 13, 'a', big - 13);
    strcpy(text + big, "\nip\t192.0.2.1\n");
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "l.ioc", 0, &d, &bad), AB_OK);
    assert_int_equal(bad, 1);
    assert_true(diag_has(&d, "l.ioc:1", "longer than"));
    assert_int_equal(ab_iocs_total(s), 1);
    assert_string_equal(only(s, AB_IOC_IP)->source, "l.ioc:2");
    /* A line of exactly 64 KiB is fine (a URL is at most 8 KiB: the rest is description). */
    memcpy(text, "url\thttp://x/\t", 14);
    memset(text + 14, 'a', (64 << 10) - 14);
    text[64 << 10] = '\0';
    d.n = 0;
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "l.ioc", 1, &d, &bad), AB_OK);
    assert_int_equal(ab_iocs_count(s, AB_IOC_URL), 1);
    free(text);
    ab_iocs_free(s);
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    const char *text = "\xEF\xBB\xBFip\t192.0.2.1\tdesc\r\n"
                       "# comment\r\n"
                       "\r\n"
                       "domain evil.example\r\n"
                       "md5\t0123456789abcdef0123456789abcdef\t\t\t70\r\n";
    assert_int_equal(load(s, text, AB_IOC_FMT_NATIVE, "w.ioc", 1, &d, &bad), AB_OK);
    assert_int_equal(d.n, 0);
    const ab_ioc *i = only(s, AB_IOC_IP);
    assert_string_equal(i->value, "192.0.2.1");
    assert_string_equal(i->description, "desc");
    assert_string_equal(only(s, AB_IOC_DOMAIN)->value, "evil.example");
    assert_int_equal(only(s, AB_IOC_MD5)->score, 70);
    assert_string_equal(only(s, AB_IOC_MD5)->source, "w.ioc:5");

    /* The same in a Loki list. */
    const char *loki = "# Desc\r\n\\\\evil\\.exe;70\r\n";
    assert_int_equal(load(s, loki, AB_IOC_FMT_LOKI_FILENAME, "filename.txt", 1, &d, &bad), AB_OK);
    i = only(s, AB_IOC_FILENAME_RE);
    assert_string_equal(i->value, "/evil\\.exe");
    assert_string_equal(i->description, "Desc");
    assert_int_equal(i->score, 70);
    ab_iocs_free(s);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    static const char text[] = "ip\t192.0.2.1\n"
                               "ip\t192.0.2.2\0evil\n"
                               "\0\n"
                               "domain\tgood.example\n";
    assert_int_equal(ab_iocs_load_buffer(s, text, sizeof(text) - 1, AB_IOC_FMT_NATIVE, "n.ioc", 0,
                                         0, collect, &d, &bad),
                     AB_OK);
    assert_int_equal(bad, 2);
    assert_true(diag_has(&d, "n.ioc:2", "NUL"));
    assert_true(diag_has(&d, "n.ioc:3", "NUL"));
    assert_int_equal(ab_iocs_total(s), 2);
    /* Same in every Loki format. */
    static const char loki[] = "\\\\a\0b;50\nabcd\0.com\n0123\0;x\n";
    for (int f = AB_IOC_FMT_LOKI_HASH; f <= AB_IOC_FMT_LOKI_C2; f++) {
        assert_int_equal(ab_iocs_load_buffer(s, loki, sizeof(loki) - 1, (ab_ioc_format)f, "n.txt",
                                             0, 0, collect, &d, &bad),
                         AB_OK);
        assert_int_equal(bad, 3);
    }
    assert_int_equal(ab_iocs_total(s), 2);
    ab_iocs_free(s);
}

static void test_regex_count_limit(void **state)
{
    (void)state;
    ab_iocs *s = store();
    diags d = {0};
    size_t bad = 0;
    size_t n = 100001;
    char *text = xmalloc(n * 24);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(text + o, "\\\\f%zu\\.exe;50\n", i);
    assert_int_equal(ab_iocs_load_buffer(s, text, o, AB_IOC_FMT_LOKI_FILENAME, "filename.txt", 0, 0,
                                         collect, &d, &bad),
                     AB_ERR_LIMIT);
    assert_true(diag_has(&d, "filename.txt:100001", "at most 100000"));
    assert_int_equal(ab_iocs_total(s), 0); /* rolled back */
    free(text);
    ab_iocs_free(s);
}

static void test_bad_args(void **state)
{
    (void)state;
    ab_iocs *s = store();
    assert_int_equal(ab_iocs_new(NULL), AB_ERR_ARG);
    assert_int_equal(
        ab_iocs_load_buffer(NULL, "", 0, AB_IOC_FMT_NATIVE, NULL, 0, 0, NULL, NULL, NULL),
        AB_ERR_ARG);
    assert_int_equal(
        ab_iocs_load_buffer(s, NULL, 5, AB_IOC_FMT_NATIVE, NULL, 0, 0, NULL, NULL, NULL),
        AB_ERR_ARG);
    assert_int_equal(
        ab_iocs_load_buffer(s, "x", 1, (ab_ioc_format)99, NULL, 0, 0, NULL, NULL, NULL),
        AB_ERR_ARG);
    /* No diag callback and no bad_lines pointer: still fine. */
    assert_int_equal(
        ab_iocs_load_buffer(s, "junk\n", 5, AB_IOC_FMT_NATIVE, NULL, 0, 0, NULL, NULL, NULL),
        AB_OK);
    assert_null(ab_iocs_get(s, AB_IOC_MD5, 0));
    assert_null(ab_iocs_get(s, AB_IOC_TYPE_COUNT, 0));
    assert_int_equal(ab_iocs_count(NULL, AB_IOC_MD5), 0);
    assert_int_equal(ab_iocs_load_path(s, NULL, 0, NULL, NULL), AB_ERR_ARG);
    ab_iocs_free(s);
    ab_iocs_free(NULL);
}

/* ---- Files and folders ----------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_path_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/ab_test_ioc_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char text[512];
    snprintf(text, sizeof(text), "md5\t%s\nip\t192.0.2.1\n", MD5);
    write_file(dir, "case.ioc", text);
    snprintf(text, sizeof(text), "%s;Loki hash\n", SHA1);
    write_file(dir, "hash-iocs.txt", text);
    snprintf(text, sizeof(text), "%s;good\n", SHA256);
    write_file(dir, "falsepositive-hashes.txt", text);
    write_file(dir, "filename-iocs.txt", "# d\n\\\\evil\\.exe;70\n");
    write_file(dir, "c2-iocs.txt", "evil.example\n");
    write_file(dir, "README.md", "this is not an IOC file\n");
    write_file(dir, ".hidden.ioc", "ip\t192.0.2.9\n");
    write_file(dir, "~backup.ioc", "ip\t192.0.2.9\n");
    write_file(dir, "_disabled.ioc", "ip\t192.0.2.9\n");
    char sub[512];
    snprintf(sub, sizeof(sub), "%s/sub.ioc", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "deep.ioc", "ip\t192.0.2.9\n");
    char fifo[512];
    snprintf(fifo, sizeof(fifo), "%s/fifo.ioc", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    ab_iocs *s = store();
    diags d = {0};
    assert_int_equal(ab_iocs_load_path(s, dir, 1, collect, &d), AB_OK);
    assert_int_equal(d.n, 1); /* the FIFO, skipped without blocking */
    assert_true(diag_has(&d, NULL, "not a regular file"));
    assert_int_equal(ab_iocs_count(s, AB_IOC_MD5), 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_SHA1), 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_SHA256), 0);
    assert_int_equal(ab_iocs_count(s, AB_IOC_FILENAME_RE), 1);
    assert_int_equal(ab_iocs_count(s, AB_IOC_DOMAIN), 1);
    assert_int_equal(ab_iocs_total(s), 6);
    char where[600];
    snprintf(where, sizeof(where), "%s/case.ioc:2", dir);
    assert_string_equal(only(s, AB_IOC_IP)->source, where);
    assert_int_equal(ab_iocs_compile(s, collect, &d), AB_OK);
    assert_true(ab_iocs_allowed(s, NULL, NULL, SHA256));

    /* A FIFO named directly is refused, without hanging. */
    ab_iocs *s2 = store();
    d.n = 0;
    assert_int_equal(ab_iocs_load_path(s2, fifo, 0, collect, &d), AB_ERR_IO);
    /* A single file is read whatever its name (NATIVE unless the name says Loki). */
    char readme[512];
    snprintf(readme, sizeof(readme), "%s/README.md", dir);
    assert_int_equal(ab_iocs_load_path(s2, readme, 1, collect, &d), AB_ERR_PARSE);
    snprintf(readme, sizeof(readme), "%s/c2-iocs.txt", dir);
    assert_int_equal(ab_iocs_load_path(s2, readme, 1, collect, &d), AB_OK);
    assert_int_equal(ab_iocs_count(s2, AB_IOC_DOMAIN), 1);
    snprintf(readme, sizeof(readme), "%s/missing.ioc", dir);
    assert_int_equal(ab_iocs_load_path(s2, readme, 0, collect, &d), AB_ERR_NOTFOUND);
    ab_iocs_free(s2);
    ab_iocs_free(s);

    /* Strict: a bad line in one file of the folder fails the load. */
    write_file(dir, "zz-bad.ioc", "ip\tnot-an-ip\n");
    unlink(fifo);
    s = store();
    assert_int_equal(ab_iocs_load_path(s, dir, 1, collect, &d), AB_ERR_PARSE);
    ab_iocs_free(s);
    s = store();
    assert_int_equal(ab_iocs_load_path(s, dir, 0, collect, &d), AB_OK);
    assert_int_equal(ab_iocs_total(s), 6);
    ab_iocs_free(s);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_format_for_name),
        cmocka_unit_test(test_native_good),
        cmocka_unit_test(test_native_bad),
        cmocka_unit_test(test_native_regex_too_long),
        cmocka_unit_test(test_native_strict),
        cmocka_unit_test(test_empty_file_hash_ignored),
        cmocka_unit_test(test_loki_hash),
        cmocka_unit_test(test_loki_hash_allow_list),
        cmocka_unit_test(test_loki_filename),
        cmocka_unit_test(test_loki_c2),
        cmocka_unit_test(test_hash_lookup_and_dedupe),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_regex_count_limit),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_load_path_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
