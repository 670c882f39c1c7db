/* test_output.c: checked report destinations: a failed write is kept, the file is cut back to
 * whole events, later events are counted as lost, and existing files and symlinks are refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/output.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ab-output-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static off_t file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

/* One event of n bytes: n-1 'x' and a newline. */
static int put_event(ab_output *o, size_t n)
{
    char line[256];
    assert_true(n <= sizeof(line));
    memset(line, 'x', n - 1);
    line[n - 1] = '\n';
    ab_output_write(o, line, n);
    return ab_output_end_event(o);
}

/* A file size limit fails the write as a full disk would (EFBIG instead of ENOSPC). */
static void test_cut_back_to_whole_events(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/r.jsonl", dir);
    ab_output o;
    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_NEW, err, sizeof(err)), AB_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(put_event(&o, 100), 0);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 350; /* the 4th event fits half */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = put_event(&o, 100);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);

    assert_int_equal(rc, -1);
    assert_int_equal(o.err, EFBIG);
    assert_int_equal(o.lost, 1);
    assert_int_equal(file_size(path), 300);  /* the half event is gone */
    assert_int_equal(put_event(&o, 50), -1); /* refused, counted */
    assert_int_equal(o.lost, 2);
    assert_int_equal(ab_output_end_event(&o), -1); /* nothing written: not an event */
    assert_int_equal(o.lost, 2);
    assert_int_equal(file_size(path), 300);
    assert_int_equal(ab_output_close(&o), -1);
}

/* ">> report": an O_APPEND descriptor whose offset is 0 until the first write. A failure must cut
 * back to the end of this run's last whole event, never into what the file held before. And
 * --append after a cut-off last line starts on a line of its own. */
static void test_append_keeps_earlier_runs(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/old-run.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 2; i++)
        fprintf(f, "%099d\n", i); /* 200 bytes of an earlier run */
    fclose(f);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    ab_output o;
    ab_output_init_fd(&o, fd, "standard output", 1);
    assert_int_equal(put_event(&o, 100), 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 350;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = put_event(&o, 100);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -1);
    assert_int_equal(file_size(path), 300); /* the earlier run and our first event stay */
    ab_output_close(&o);

    /* A last line cut off (no newline): --append ends it first. */
    f = fopen(path, "a");
    fputs("{\"event\":\"fin", f);
    fclose(f);
    off_t before = file_size(path);
    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_APPEND, err, sizeof(err)), AB_OK);
    assert_int_equal(put_event(&o, 10), 0);
    assert_int_equal(ab_output_close(&o), 0);
    assert_int_equal(file_size(path), before + 1 + 10);
    f = fopen(path, "r");
    char line[256], last[256] = "";
    while (fgets(line, sizeof(line), f))
        snprintf(last, sizeof(last), "%s", line);
    fclose(f);
    assert_string_equal(last, "xxxxxxxxx\n");
}

static void test_stream_events(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/c.txt", dir);
    ab_output o;
    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_NEW, err, sizeof(err)), AB_OK);
    FILE *f = ab_output_stream(&o);
    assert_non_null(f);
    fputs("first line\n", f);
    assert_int_equal(file_size(path), 0); /* buffered until the event ends */
    assert_int_equal(ab_output_end_event(&o), 0);
    assert_int_equal(file_size(path), 11);
    assert_int_equal(ab_output_close(&o), 0);
    assert_int_equal(o.lost, 0);
}

static void test_existing_files(void **state)
{
    (void)state;
    char path[128], link[160], err[256];
    snprintf(path, sizeof(path), "%s/old.jsonl", dir);
    snprintf(link, sizeof(link), "%s/link.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    ab_output o;
    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_NEW, err, sizeof(err)), AB_ERR_IO);
    assert_non_null(strstr(err, "exists"));
    assert_int_equal(file_size(path), 4);

    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_APPEND, err, sizeof(err)), AB_OK);
    assert_int_equal(put_event(&o, 10), 0);
    assert_int_equal(ab_output_close(&o), 0);
    assert_int_equal(file_size(path), 14);

    assert_int_equal(ab_output_open(&o, path, AB_OUTPUT_FORCE, err, sizeof(err)), AB_OK);
    assert_int_equal(put_event(&o, 10), 0);
    assert_int_equal(ab_output_close(&o), 0);
    assert_int_equal(file_size(path), 10);

    /* Never through a symlink, whatever the mode; dangling ones too. */
    assert_int_equal(symlink(path, link), 0);
    for (int m = AB_OUTPUT_NEW; m <= AB_OUTPUT_APPEND; m++) {
        assert_int_equal(ab_output_open(&o, link, (ab_output_mode)m, err, sizeof(err)), AB_ERR_IO);
        assert_non_null(strstr(err, "symbolic link"));
    }
    assert_int_equal(file_size(path), 10);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(ab_output_open(&o, link, AB_OUTPUT_FORCE, err, sizeof(err)), AB_ERR_IO);
    assert_int_equal(access(path, F_OK), -1); /* not created through the dangling link */

    /* A character device is written as it is, without --force. */
    assert_int_equal(ab_output_open(&o, "/dev/null", AB_OUTPUT_NEW, err, sizeof(err)), AB_OK);
    assert_int_equal(put_event(&o, 10), 0);
    assert_int_equal(ab_output_close(&o), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_back_to_whole_events),
        cmocka_unit_test(test_append_keeps_earlier_runs),
        cmocka_unit_test(test_stream_events),
        cmocka_unit_test(test_existing_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
