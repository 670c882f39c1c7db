/* test_throttle.c: the rest a worker owes after an object under --max-cpu and --max-io. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/throttle.h"

static void test_delay(void **state)
{
    (void)state;
    /* No limits: no rest. */
    assert_true(ab_throttle_delay(0, 0, 2.0, 2.0, 1u << 30) == 0);
    assert_true(ab_throttle_delay(100, 0, 2.0, 2.0, 0) == 0);
    /* 25% of a core: 1 s of CPU in 1 s of real time owes 3 s. */
    assert_float_equal(ab_throttle_delay(25, 0, 1.0, 1.0, 0), 3.0, 1e-9);
    /* A slow object (mostly waiting) owes nothing. */
    assert_true(ab_throttle_delay(50, 0, 1.0, 5.0, 0) <= 0);
    /* 1 MiB/s: 4 MiB read in 1 s owes 3 s; the larger of the two limits wins. */
    assert_float_equal(ab_throttle_delay(0, 1 << 20, 0.1, 1.0, 4 << 20), 3.0, 1e-9);
    assert_float_equal(ab_throttle_delay(10, 1 << 20, 1.0, 1.0, 4 << 20), 9.0, 1e-9);
}

static void test_rest_is_bounded(void **state)
{
    (void)state;
    /* What one object owes beyond AB_THROTTLE_MAX_REST is carried to the next ones, so a worker
     * never rests past the parent's grace period. Debt here: 1 GiB at 1 GiB/s is 1 s, minus the
     * (tiny) wall time of the test. */
    ab_throttle t = {.max_io = 1 << 30};
    t.debt = 12.0; /* owed from before */
    ab_throttle_begin(&t);
    double slept = ab_throttle_end(&t, 0);
    assert_float_equal(slept, AB_THROTTLE_MAX_REST, 1e-9);
    assert_float_equal(t.debt, 12.0 - AB_THROTTLE_MAX_REST, 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_rest_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
