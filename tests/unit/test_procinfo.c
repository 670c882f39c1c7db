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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_fields),
        cmocka_unit_test(test_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
