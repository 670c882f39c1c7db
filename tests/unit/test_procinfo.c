/* test_procinfo.c: process context from /proc: the stat fields after a hostile command name, and
 * a real process (this one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/procinfo.h"
#include "host/procmaps.h"

#include <stdlib.h>

static void test_stat_fields(void **state)
{
    (void)state;
    pid_t pp;
    unsigned long long st;
    /* What follows the last ')' of "1234 (a) b) c) S 1 ..." (a name may hold ") "). */
    const char *line = " S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 0 0";
    assert_true(ab_proc_stat_fields(line, &pp, &st));
    assert_int_equal(pp, 77);
    assert_int_equal(st, 987654);
    /* Truncated or garbage: no fields, never a read past the end. */
    assert_false(ab_proc_stat_fields(" S 77 1234", &pp, &st));
    assert_int_equal(st, 0);
    assert_false(ab_proc_stat_fields("", &pp, &st));
    ab_proc_stat_fields(" S -5 x y", &pp, &st);
    assert_int_equal(pp, 0);
}

static void test_self(void **state)
{
    (void)state;
    ab_proc_info pi;
    ab_proc_info_read(getpid(), &pi);
    assert_non_null(strstr(pi.exe, "test_procinfo"));
    assert_false(pi.exe_deleted);
    assert_int_equal(pi.ppid, getppid());
    assert_true(pi.user[0] != '\0');
    assert_true(pi.start > 1.5e9);
    ab_proc_info_read(0x3fffff, &pi); /* no such process: empty, no failure */
    assert_int_equal(pi.exe[0], '\0');
    assert_int_equal(pi.ppid, 0);
}

static void test_maps(void **state)
{
    (void)state;
    const char *text = "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus daemon\n"
                       "garbage line\n"
                       "7f00-7e00 rw-p 00000000 00:00 0\n" /* end before start: ignored */
                       "7fff0000-7fff1000 rw-p 00000000 00:00 0\n"
                       "7fff1000-7fff2000 r--p 00000000 00:00 0 [vdso]";
    ab_maps m;
    ab_maps_parse(&m, strdup(text));
    assert_int_equal(m.n, 3);
    char buf[256];
    assert_string_equal(ab_maps_describe(&m, 0x400010, buf, sizeof(buf)),
                        "0x400000-0x452000 r-xp /usr/bin/dbus daemon");
    assert_string_equal(ab_maps_describe(&m, 0x7fff0fff, buf, sizeof(buf)),
                        "0x7fff0000-0x7fff1000 rw-p");
    assert_string_equal(ab_maps_describe(&m, 0x7fff1000, buf, sizeof(buf)),
                        "0x7fff1000-0x7fff2000 r--p [vdso]");
    assert_null(ab_maps_describe(&m, 0x452000, buf, sizeof(buf)));
    assert_null(ab_maps_describe(&m, 0x10, buf, sizeof(buf)));
    ab_maps_free(&m);
    ab_maps_parse(&m, strdup("")); /* empty */
    assert_null(ab_maps_describe(&m, 0, buf, sizeof(buf)));
    ab_maps_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_fields),
        cmocka_unit_test(test_self),
        cmocka_unit_test(test_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
