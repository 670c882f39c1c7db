# t_notscanned.sh: saying what was not scanned (skip reasons, statuses, excludes, process
# messages). Sourced by e2e.sh; each test_* is listed in meson.build.

# ns_event KIND FIELD VALUE KEY: prints KEY of the first KIND event whose FIELD is VALUE ("" if none).
ns_event() {
  $PY -c '
import json, sys
kind, field, value, key = sys.argv[1:5]
for line in open(sys.argv[5], encoding="utf-8"):
    e = json.loads(line)
    if e["event"] == kind and str(e.get(field)) == value:
        print(e.get(key)); break
' "$1" "$2" "$3" "$4" "$T/out"
}

# A process that exits between the listing and its scan: with --processes an "exited" skip (a
# busy host must not make the sweep fail); named with --pid, an error (not-found) that says so.
test_ns_processes_exited() {
  grep -q test_hooks "$SRCDIR/meson_options.txt"
  printf 'rule never { condition: false }\n' >"$T/r.yar"
  sleep 120 </dev/null >/dev/null 2>&1 &
  local victim=$!
  BG_PIDS+=("$victim")
  set +e
  ANTIBODY_TEST_FAULT=vanish:pid:$victim abj --no-default-pack --list-skipped --timeout 20 \
    --rules "$T/r.yar" --processes >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  assert_eq "$(ns_event skip path "pid:$victim" reason)" exited "skip reason of the exited process"
  # Processes that exit during the sweep are never errors; a huge process may still hit --timeout.
  assert_eq "$(ns_event error status not-found path)" "" "a not-found error in a sweep of all processes"
  if grep -v "time limit" "$T/err" | grep -q error; then cat "$T/err"; fail "errors other than time limits"; fi
  [ "$rc" = 0 ] || grep -q "time limit" "$T/err" || fail "exit status $rc"
  [ "$(summary_field objects)" -ge 1 ] || fail "no process scanned"
  sleep 120 </dev/null >/dev/null 2>&1 &
  victim=$!
  BG_PIDS+=("$victim")
  ANTIBODY_TEST_FAULT=vanish:pid:$victim run 2 abj --no-default-pack --rules "$T/r.yar" --pid "$victim"
  assert_eq "$(ns_event error path "pid:$victim" status)" not-found "status of a named pid that exited"
  assert_contains "$T/err" "pid:$victim: process exited before it could be scanned"
}

# Process errors say what happened in words, never a libyara error number.
test_ns_process_messages() {
  printf 'rule never { condition: false }\n' >"$T/r.yar"
  run 2 abj --no-default-pack --rules "$T/r.yar" --pid 999999999
  assert_eq "$(ns_event error path pid:999999999 status)" not-found "status of a pid that never existed"
  assert_contains "$T/err" "pid:999999999: no such process"
  if [ "$(cut -d' ' -f2 /proc/2/stat 2>/dev/null)" = "(kthreadd)" ]; then
    run 2 abj --no-default-pack --rules "$T/r.yar" --pid 2
    assert_contains "$T/err" "pid:2: kernel thread: no user memory to scan"
    assert_eq "$(ns_event error path pid:2 status)" unsupported "status of a kernel thread"
  fi
  # Root reading pid 1: scanned, or refused for a reason that is not "needs root".
  if [ "$(id -u)" = 0 ]; then
    set +e; abj --no-default-pack --rules "$T/r.yar" --pid 1 >"$T/out" 2>"$T/err"; set -e
    if grep -q error "$T/err"; then
      assert_contains "$T/err" "pid:1: permission denied: "
      if grep -q "needs root" "$T/err"; then cat "$T/err"; fail "root told it needs root"; fi
    fi
  fi
  if grep -q "libyara error" "$T/err"; then cat "$T/err"; fail "a libyara number in a message"; fi
  # A process of the same user that is not dumpable needs CAP_SYS_PTRACE: say that.
  local cmd=("$ANTIBODY") py=("$PY")
  if [ "$(id -u)" = 0 ]; then
    install -m 755 "$ANTIBODY" "$T/antibody-copy"
    cmd=(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/antibody-copy")
    # a system python: a per-user one (pyenv) is often not readable by nobody
    py=(setpriv --reuid=65534 --regid=65534 --clear-groups "$(command -v /usr/bin/python3 || command -v "$PY")")
  fi
  "${py[@]}" -c 'import ctypes, time; ctypes.CDLL(None).prctl(4, 0); print("ready", flush=True); time.sleep(60)' \
    >"$T/ready" </dev/null 2>/dev/null &
  local pid=$!
  BG_PIDS+=("$pid")
  for _ in $(seq 50); do grep -q ready "$T/ready" && break; sleep 0.1; done
  run 2 "${cmd[@]}" scan --json --no-progress --no-default-pack --rules "$T/r.yar" --pid "$pid"
  assert_contains "$T/err" "pid:$pid: permission denied: the process is not dumpable"
}

# --timeout reached: status timeout, the limit in words.
test_ns_timeout_words() {
  mkdir -p "$T/big"
  truncate -s 200M "$T/big/zeros.bin"
  printf 'rule slow { condition: for all i in (0..filesize-1) : (uint8(i) == 0) }\n' >"$T/slow.yar"
  run 2 timeout 120 "$ANTIBODY" scan --json --no-progress --no-default-pack --rules "$T/slow.yar" \
    --timeout 1 "$T/big"
  assert_eq "$(ns_event error path "$T/big/zeros.bin" status)" timeout "status"
  assert_contains "$T/err" "zeros.bin: time limit of 1 s reached"
  if grep -q "libyara" "$T/err"; then cat "$T/err"; fail "a libyara number in a message"; fi
}

# glob(7): '*' stays within a folder, '**' crosses; relative and directory-only globs; an
# exclude that matched nothing is said.
test_ns_excludes_glob() {
  mkdir -p "$T/tree/sub" "$T/tree/a/b" "$T/tree/keep/sub2"
  for f in sub/x a/b/c.log a/top.log keep/sub2/y keep/z; do printf 'GOODMARKER\n' >"$T/tree/$f"; done
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  local ex
  for ex in sub ./sub "$T/tree/sub/" sub/; do
    (cd "$T/tree" && run 1 abj --no-default-pack --rules "$T/g.yar" --exclude "$ex" .)
    findings "$T/tree/" | cut -f1 | sort >"$T/got"
    printf 'a/b/c.log\na/top.log\nkeep/sub2/y\nkeep/z\n' >"$T/want"
    diff "$T/want" "$T/got" || fail "--exclude $ex"
    [ ! -s "$T/err" ] || { cat "$T/err"; fail "--exclude $ex: unexpected stderr"; }
  done
  # from another directory: relative to the PATH given, or to the current directory
  (cd "$T" && run 1 abj --no-default-pack --rules "$T/g.yar" --exclude tree/sub --exclude 'a/*.log' \
    --exclude 'keep/**/y' --exclude nothing-here tree)
  findings "$T/tree/" | cut -f1 | sort >"$T/got"
  printf 'a/b/c.log\nkeep/z\n' >"$T/want"  # '*' does not cross into a/b
  diff "$T/want" "$T/got" || fail "relative globs"
  assert_contains "$T/err" "antibody: warning: --exclude nothing-here matched nothing"
  assert_eq "$(grep -c warning "$T/err")" 1 "only the unmatched exclude is reported"
  run 1 abj --no-default-pack --rules "$T/g.yar" --exclude "$T/tree/**/*.log" "$T/tree"
  assert_eq "$(findings "$T/tree/" | grep -c log || true)" 0 "'**' crosses folders"
}

test_ns_exclude_from_regex() {
  mkdir -p "$T/tree/sub" "$T/tree/Keep"
  for f in sub/x keep.log Keep/y z; do printf 'GOODMARKER\n' >"$T/tree/$f"; done
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  printf '# excludes\n\n   \n  *.log  \nsub\n' >"$T/ex.txt"
  run 1 abj --no-default-pack --rules "$T/g.yar" --exclude-from "$T/ex.txt" \
    --exclude-regex '/KEEP/' "$T/tree"
  assert_eq "$(findings "$T/tree/")" "z	good" "--exclude-from and a case-insensitive --exclude-regex"
  run 2 abj --no-default-pack --rules "$T/g.yar" --exclude-from "$T/missing.txt" "$T/tree"
  assert_contains "$T/err" "missing.txt: No such file or directory"
  run 2 abj --no-default-pack --rules "$T/g.yar" --exclude-regex 'a(' "$T/tree"
  assert_contains "$T/err" "exclude regex 'a('"
  head -c 5000 /dev/zero | tr '\0' a >"$T/long.txt"
  run 2 abj --no-default-pack --rules "$T/g.yar" --exclude-from "$T/long.txt" "$T/tree"
  assert_contains "$T/err" "long.txt:1: line longer than 4096 bytes"
}

# A missing PATH: status not-found, as docs/findings.md says.
test_ns_missing_path() {
  run 2 abj --no-default-pack --list "$T/does-not-exist"
  assert_eq "$(ns_event error path "$T/does-not-exist" status)" not-found "status of a missing PATH"
}

# --pid X --pid X scans X once.
test_ns_pid_twice() {
  printf 'rule never { condition: false }\n' >"$T/r.yar"
  sleep 60 </dev/null >/dev/null 2>&1 &
  local pid=$!
  BG_PIDS+=("$pid")
  run 0 abj --no-default-pack --rules "$T/r.yar" --pid "$pid" --pid "$pid"
  assert_eq "$(summary_field objects)" 1 "objects"
}

# --max-filesize 0 means no limit, and --help says so.
test_ns_max_filesize_zero() {
  run 0 ab --help
  assert_contains "$T/out" "0: no limit"
  mkdir -p "$T/sz"
  truncate -s 300M "$T/sz/sparse"
  run 0 timeout 120 "$ANTIBODY" scan --json --no-progress --list-skipped --max-filesize 0 "$T/sz"
  assert_eq "$(summary_field objects)" 1 "the 300M file is scanned"
  assert_eq "$(summary_field skipped_total)" 0 "nothing skipped"
}

# An interrupted sweep counts the interruption in the summary's errors (antibody(1), SIGNALS).
test_ns_interrupt_counts() {
  mkdir -p "$T/c"
  printf 'x\n' >"$T/c/spin.txt"
  ANTIBODY_TEST_FAULT=hang:spin.txt "$ANTIBODY" scan --json --no-progress -j 1 \
    "$T/c" >"$T/out" 2>"$T/err" &
  local pid=$!
  BG_PIDS+=("$pid")
  for _ in $(seq 100); do pgrep -P "$pid" >/dev/null && break; sleep 0.1; done
  sleep 0.3
  kill -INT "$pid"
  wait_exit "$pid"
  assert_eq "$RC" 2 "exit status"
  assert_eq "$(summary_field interrupted)" True "summary.interrupted"
  assert_eq "$(summary_field errors)" 1 "the interruption is the summary's one error"
}
