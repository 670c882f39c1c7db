#!/usr/bin/env bash
# End-to-end tests of the antibody CLI on generated fixtures.
# usage: e2e.sh TEST_NAME   (env: ANTIBODY = the binary, SRCDIR = the source tree)
# Each test_* function is one meson test; it fails by calling fail (or any command failing).
set -euo pipefail

: "${ANTIBODY:?set ANTIBODY to the antibody binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
PY=python3
JQ="$SRCDIR/tests/e2e/jsonl.py"
T=$(mktemp -d /tmp/antibody-e2e.XXXXXX)
chmod 755 "$T"
BG_PIDS=()
BG_FILES=()
BG_NETNS=() # network namespaces a test made (t_sniff.sh veth_setup); deleting one drops its veth
cleanup() {
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in "${BG_NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  for f in "${BG_FILES[@]}"; do rm -f "$f"; done
  chmod -R u+rwx "$T" 2>/dev/null || true; rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# run EXPECTED_RC CMD...: runs CMD, stdout in $T/out, stderr in $T/err, checks the exit code.
run() {
  local want=$1; shift
  set +e
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; head -c 4000 "$T/out"; echo "--- stderr"; head -c 4000 "$T/err"
    fail "exit code $rc, expected $want: $*"
  fi
}
ab() { "$ANTIBODY" "$@"; }
# skip WHY: the test cannot run here (no root, a tool missing): meson counts exit 77 as skipped,
# never as passed.
skip() {
  echo "skipped: $*"
  exit 77
}
# antibody's flow externals (docs/antibody.1), defined empty as antibody does for a file, for the
# yara CLI in parity tests (the pack's network.yar uses them)
YARA_DEFS=(-d flow_proto= -d app_proto= -d flow_direction= -d src_ip= -d dest_ip= -d src_port=0
  -d dest_port=0)
# Scan with JSON output, no default pack unless asked.
abj() { "$ANTIBODY" scan --json --no-progress "$@"; }
# findings PATH-PREFIX: "relative-path<TAB>rule" lines from $T/out, sorted.
findings() { $PY "$JQ" pairs "$1" <"$T/out"; }
count() { $PY "$JQ" count "$1" <"$T/out"; }
summary_field() { $PY "$JQ" summary "$1" <"$T/out"; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"; }
# wait_exit PID: sets RC to the exit status of background job PID, waiting at most 20 s (124: still
# running). Not in $(...): a subshell cannot wait for this shell's children.
wait_exit() {
  RC=124
  for _ in $(seq 200); do
    if ! kill -0 "$1" 2>/dev/null; then set +e; wait "$1"; RC=$?; set -e; break; fi
    sleep 0.1
  done
}
# gen_cached DIR GEN [ARGS...]: DIR (which must not exist) holds what tests/fixtures/GEN writes
# with ARGS, generated once per folder $E2E_FIXTURES (default: next to the binary, in the build
# tree; make check gives both of its test runs one) and copied, for the generators that several
# tests run (gen_unpack.py, gen_mail.py, gen_captures.py). The cache key is every generator's source and ARGS: a
# changed generator runs again.
gen_cached() {
  local dir=$1 gen=$2 cache key c
  shift 2
  cache=${E2E_FIXTURES:-$(dirname "$ANTIBODY")/e2e-fixtures}
  key=$({ cat "$SRCDIR"/tests/fixtures/*.py; printf '%s\n' "$gen" "$@"; } | sha256sum | cut -c1-16)
  c="$cache/${gen%.py}-$key"
  mkdir -p "$cache"
  (
    flock 9
    if [ ! -d "$c" ]; then
      rm -rf "$c.new"
      $PY "$SRCDIR/tests/fixtures/$gen" "$c.new" "$@" >/dev/null
      mv "$c.new" "$c"
    fi
  ) 9>"$c.lock"
  cp -a "$c" "$dir"
}
assert_contains() { grep -qF -- "$2" "$1" || { cat "$1" | head -50; fail "'$2' not in $1"; }; }

# ---------------------------------------------------------------------------------------------

test_help() {
  run 0 ab --help
  assert_contains "$T/out" "Exit status"
  assert_contains "$T/out" "--max-filesize"
  run 0 ab --version
  assert_contains "$T/out" "antibody "
  run 2 ab frobnicate
  assert_contains "$T/err" "unknown command"
  run 2 ab scan
  assert_contains "$T/err" "nothing to scan"
  run 2 ab scan --jobs 0 /tmp
  assert_contains "$T/err" "--jobs"
  [ -s "$SRCDIR/docs/antibody.1" ] || fail "man page missing"
}

test_packs() {
  run 0 ab packs
  assert_contains "$T/out" "apt29-2020"
  local rules iocs
  rules=$(awk '$1=="apt29-2020"{print $2}' "$T/out")
  iocs=$(awk '$1=="apt29-2020"{print $3}' "$T/out")
  [ "$rules" -ge 8 ] || fail "apt29-2020 has only $rules rules"
  [ "$iocs" -ge 15 ] || fail "apt29-2020 has only $iocs IOCs"
}

test_pack_positives() {
  $PY "$SRCDIR/tests/fixtures/gen_apt29.py" "$T/fx" >/dev/null
  run 1 abj "$T/fx"
  findings "$T/fx/" | grep -v '^negatives' | sort >"$T/got" || true
  grep -v '^#' "$T/fx/expected.tsv" | sort >"$T/want"
  # every expected (file, rule) pair fires, and no positive fires anything unexpected
  findings "$T/fx/" | sort >"$T/all"
  comm -23 "$T/want" "$T/all" >"$T/missing"
  [ ! -s "$T/missing" ] || { cat "$T/missing"; fail "expected pack findings missing"; }
  while IFS= read -r f; do
    grep -q "^$f	" "$T/all" && fail "near-miss $f fired: $(grep "^$f	" "$T/all")"
  done < <(grep -v '^#' "$T/fx/negatives.txt")
  comm -13 "$T/want" "$T/all" >"$T/extra"
  [ ! -s "$T/extra" ] || { cat "$T/extra"; fail "unexpected pack findings"; }
  # findings carry the rule's metadata
  $PY "$JQ" check-meta <"$T/out"
}

test_clean_tree() {
  mkdir -p "$T/clean/sub"
  printf 'hello world\n' >"$T/clean/a.txt"
  head -c 100000 /dev/urandom >"$T/clean/sub/b.bin"
  : >"$T/clean/empty"
  run 0 abj "$T/clean"
  assert_eq "$(count finding)" 0 "findings on a clean tree"
  assert_eq "$(summary_field objects)" 3 "objects scanned"
  run 0 ab scan --no-progress "$T/clean"
  assert_contains "$T/out" "3 objects"
  # the pack's C2 address is loaded, and a file sweep matches it (observables of unpacked files)
  assert_contains "$T/err" "31 IOCs loaded, content"
}

test_hash_ioc() {
  mkdir -p "$T/h"
  printf 'benign test payload for hash IOC\n' >"$T/h/payload.bin"
  printf 'other\n' >"$T/h/other.txt"
  local md5 sha1 sha256
  md5=$(md5sum "$T/h/payload.bin" | cut -d' ' -f1)
  sha1=$(sha1sum "$T/h/payload.bin" | cut -d' ' -f1)
  sha256=$(sha256sum "$T/h/payload.bin" | cut -d' ' -f1)
  for t in md5 sha1 sha256; do
    local v; eval "v=\$$t"
    printf '# test\n%s\t%s\tTest %s IOC\thttps://example.org/ref\t90\tTestFamily\n' "$t" \
      "$(echo "$v" | tr a-f A-F)" "$t" >"$T/h.ioc"
    run 1 abj --no-default-pack --ioc "$T/h.ioc" "$T/h"
    assert_eq "$(findings "$T/h/")" "payload.bin	$v" "$t IOC finding"
    $PY "$JQ" expect-hashes "$md5" "$sha1" "$sha256" <"$T/out"
  done
  # --hash puts hashes in --list output
  run 0 abj --no-default-pack --hash --list "$T/h"
  assert_eq "$(count object)" 2 "object events"
  $PY "$JQ" expect-hashes "$md5" "$sha1" "$sha256" <"$T/out"
}

test_loki_lists() {
  mkdir -p "$T/l/iocs" "$T/l/tree/Windows/Temp"
  printf 'loki hash payload\n' >"$T/l/tree/x.dat"
  printf 'MZ fake\n' >"$T/l/tree/Windows/Temp/evil.exe"
  printf 'fine\n' >"$T/l/tree/Windows/Temp/fine.exe"
  local sha; sha=$(sha256sum "$T/l/tree/x.dat" | cut -d' ' -f1)
  printf '# Loki style\n%s;80;Test hash; with semicolon\n' "$sha" >"$T/l/iocs/hash-iocs.txt"
  printf '# Evil in temp\n\\\\Windows\\\\Temp\\\\evil\\.exe;75\n\\\\Temp\\\\fine\\.exe;70;fine\\.exe\n' \
    >"$T/l/iocs/filename-iocs.txt"
  printf 'This README is not an IOC list\n' >"$T/l/iocs/README.md"
  run 1 abj --no-default-pack --ioc "$T/l/iocs" "$T/l/tree"
  findings "$T/l/tree/" | sort >"$T/got"
  printf 'Windows/Temp/evil.exe\t\\\\Windows\\\\Temp\\\\evil\\.exe\nx.dat\t%s\n' "$sha" | sort >"$T/want"
  $PY "$JQ" rules-only <"$T/out" >/dev/null
  diff <(cut -f1 "$T/got") <(cut -f1 "$T/want") || fail "Loki list findings differ"
}

test_ioc_errors() {
  mkdir -p "$T/t"; printf 'x\n' >"$T/t/f"
  printf 'md5\tnot-a-hash\nsha256\t%s\n' "$(printf x | sha256sum | cut -d' ' -f1)" >"$T/bad.ioc"
  run 2 ab scan --no-progress --no-default-pack --ioc "$T/bad.ioc" "$T/t"
  assert_contains "$T/err" "bad.ioc:1"
  run 2 ab scan --no-progress --no-default-pack --strict --ioc "$T/bad.ioc" "$T/t"
  assert_contains "$T/err" "bad.ioc:1"
  # A regex vectorscan cannot use (a back-reference) is left out with a warning: the sweep is
  # not an error; --strict refuses it.
  printf 'filename-regex\t(a)\\1\nfilename-regex\t/nothing-here$\n' >"$T/warn.ioc"
  run 0 ab scan --no-progress --no-default-pack --ioc "$T/warn.ioc" "$T/t"
  assert_contains "$T/err" "warning: $T/warn.ioc:1"
  run 2 ab scan --no-progress --no-default-pack --strict --ioc "$T/warn.ioc" "$T/t"
}

test_rule_errors() {
  mkdir -p "$T/r" "$T/t"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/r/good.yar"
  printf 'rule bad {\n  strings: $a = "x"\n  condition: $b\n}\n' >"$T/r/bad.yar"
  printf 'rule skipped { condition: true }\n' >"$T/r/_ignored.yar"
  printf 'the GOODMARKER is here\n' >"$T/t/hit.txt"
  run 1 abj --no-default-pack --rules "$T/r" "$T/t"
  assert_contains "$T/err" "bad.yar:4: undefined string"
  assert_eq "$(findings "$T/t/")" "hit.txt	good" "good rule still loads"
  run 2 abj --no-default-pack --strict --rules "$T/r" "$T/t"
  # the same files named again (folder twice, a file of it) load once: no duplicate clashes
  run 1 abj --no-default-pack --rules "$T/r" --rules "$T/r/" --rules "$T/r/good.yar" "$T/t"
  assert_eq "$(grep -c . "$T/err")" 1 "one error line (bad.yar), no duplicates"
  assert_eq "$(findings "$T/t/")" "hit.txt	good" "rules loaded once"
  # a compiled rules file works too
  if command -v yarac >/dev/null; then
    yarac "$T/r/good.yar" "$T/good.yarc"
    run 1 abj --no-default-pack --rules "$T/good.yarc" "$T/t"
    assert_eq "$(findings "$T/t/")" "hit.txt	good" "compiled rules"
  fi
  run 2 ab scan --no-progress --no-default-pack --rules "$T/nonexistent.yar" "$T/t"
  assert_contains "$T/err" "nonexistent.yar"
}

test_externals() {
  mkdir -p "$T/x/Dir.d" "$T/r"
  printf 'MZ\x90\x00 externals test\n' >"$T/x/Dir.d/Sample.EXE"
  printf 'plain\n' >"$T/x/.bashrc"
  cat >"$T/r/ext.yar" <<'EOF'
rule ext_exe { condition: extension == ".exe" and filename == "Sample.EXE" and filetype == "EXE" }
rule ext_path { condition: filepath endswith "/Dir.d" and owner == "root" }
rule ext_dotfile { condition: filename == ".bashrc" and extension == "" and filetype == "UNKNOWN" }
EOF
  run 1 abj --no-default-pack --rules "$T/r/ext.yar" "$T/x"
  findings "$T/x/" | sort >"$T/got"
  printf '.bashrc\text_dotfile\nDir.d/Sample.EXE\text_exe\nDir.d/Sample.EXE\text_path\n' | sort >"$T/want"
  if [ "$(id -u)" != 0 ]; then grep -v ext_path "$T/want" >"$T/w2" || true; mv "$T/w2" "$T/want"; fi
  diff "$T/want" "$T/got" || fail "externals differ"
}

test_sigbase_layout() {
  # signature-base keeps its magic table in misc/ beside yara/: it replaces the built-in table,
  # whether -r names the folder or a file in it.
  mkdir -p "$T/sb/yara" "$T/sb/misc" "$T/x"
  printf '# test table\n41 42 43 44;MYTYPE\n4D 5A;EXE\n' >"$T/sb/misc/file-type-signatures.txt"
  printf 'rule my_type { condition: filetype == "MYTYPE" }\n' >"$T/sb/yara/t.yar"
  printf 'ABCD and more\n' >"$T/x/a.bin"
  printf 'ABCE\n' >"$T/x/b.bin"
  run 1 abj --no-default-pack --rules "$T/sb/yara" "$T/x"
  assert_eq "$(findings "$T/x/")" "a.bin	my_type" "table from misc/ (folder)"
  run 1 abj --no-default-pack --rules "$T/sb/yara/t.yar" "$T/x"
  assert_eq "$(findings "$T/x/")" "a.bin	my_type" "table from misc/ (file)"
  mkdir -p "$T/plain"; cp "$T/sb/yara/t.yar" "$T/plain/"
  run 0 abj --no-default-pack --rules "$T/plain/t.yar" "$T/x"
}

test_yara_parity() {
  command -v yara >/dev/null || fail "yara CLI not installed (scripts/deps installs it)"
  $PY "$SRCDIR/tests/fixtures/gen_apt29.py" "$T/fx" >/dev/null
  mkdir -p "$T/fx/misc"
  printf 'the quick brown fox\n' >"$T/fx/misc/fox.txt"
  printf 'MZ\x00\x00 jumps\n' >"$T/fx/misc/mz.bin"
  head -c 300000 /dev/urandom >"$T/fx/misc/rand.bin"
  cat "$SRCDIR"/rules/apt29-2020/*.yar >"$T/all.yar"
  cat >>"$T/all.yar" <<'EOF'
rule parity_text { strings: $a = "quick brown" condition: $a }
rule parity_mz { condition: uint16(0) == 0x5A4D }
rule parity_hex { strings: $h = { 6A 75 6D 70 73 } condition: $h }
EOF
  yara "${YARA_DEFS[@]}" -r "$T/all.yar" "$T/fx" | awk '{r=$1; $1=""; sub(/^ /,""); print $0 "\t" r}' |
    sed "s|^$T/fx/||" | sort >"$T/yara"
  run 1 abj --no-default-pack --rules "$T/all.yar" "$T/fx"
  findings "$T/fx/" | sort >"$T/ab"
  [ -s "$T/yara" ] || fail "yara found nothing"
  diff "$T/yara" "$T/ab" || fail "antibody and yara -r disagree"
}

test_symlinks() {
  mkdir -p "$T/s/a/b"
  printf 'GOODMARKER\n' >"$T/s/a/file.txt"
  ln -s .. "$T/s/a/b/up"
  ln -s ../file.txt "$T/s/a/b/link.txt"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  run 1 abj --no-default-pack --list-skipped --rules "$T/g.yar" "$T/s"
  assert_eq "$(count finding)" 1 "symlinks not followed by default"
  assert_eq "$($PY "$JQ" skips symlink <"$T/out")" 2 "two symlink skips"
  run 1 timeout 60 "$ANTIBODY" scan --json --no-progress --no-default-pack --list-skipped \
    --follow-symlinks --rules "$T/g.yar" "$T/s"
  [ "$($PY "$JQ" skips loop <"$T/out")" -ge 1 ] || fail "loop not reported"
}

test_special_files() {
  mkdir -p "$T/sp"
  mkfifo "$T/sp/fifo"
  printf 'x\n' >"$T/sp/regular"
  : >"$T/sp/zero"
  truncate -s 300M "$T/sp/sparse"
  run 0 timeout 60 "$ANTIBODY" scan --json --no-progress --list-skipped "$T/sp"
  assert_eq "$($PY "$JQ" skips special-file <"$T/out")" 1 "FIFO skipped"
  assert_eq "$($PY "$JQ" skips too-large <"$T/out")" 1 "300M sparse file over the 256M default"
  assert_eq "$(summary_field objects)" 2 "regular + zero-byte scanned"
  run 0 timeout 120 "$ANTIBODY" scan --json --no-progress --max-filesize 1G "$T/sp"
  assert_eq "$(summary_field objects)" 3 "sparse file scanned with a larger limit"
  assert_eq "$(summary_field bytes)" $((300 * 1024 * 1024 + 2)) "bytes"
}

test_dev_shm() {
  # /dev is skipped, but /dev/shm (tmpfs, a common drop place) is still swept.
  if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ]; then echo "no tmpfs /dev/shm: nothing to test"; return; fi
  local f; f=$(mktemp /dev/shm/antibody-e2e.XXXXXX)
  BG_FILES=("$f")
  printf 'GOODMARKER\n' >"$f"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  run 1 abj --no-default-pack --list-skipped --rules "$T/g.yar" /dev
  assert_eq "$($PY "$JQ" skips pseudo-fs <"$T/out")" 1 "/dev skipped"
  assert_eq "$(findings /dev/shm/)" "$(basename "$f")	good" "/dev/shm swept"
  # With --one-file-system nothing under /dev is scanned: not a clean result unless asked.
  run 2 abj --no-default-pack --one-file-system --rules "$T/g.yar" /dev
  assert_contains "$T/err" "nothing was scanned: 1 skipped (pseudo-fs 1)"
  run 0 abj --no-default-pack --one-file-system --allow-empty --rules "$T/g.yar" /dev
  rm -f "$f"
}

test_unreadable() {
  mkdir -p "$T/u/locked"
  printf 'x\n' >"$T/u/ok.txt"
  printf 'secret\n' >"$T/u/secret.txt"
  chmod 000 "$T/u/secret.txt"
  chmod 000 "$T/u/locked"
  local cmd=("$ANTIBODY")
  if [ "$(id -u)" = 0 ]; then
    install -m 755 "$ANTIBODY" "$T/antibody-copy"
    cmd=(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/antibody-copy")
  fi
  run 2 "${cmd[@]}" scan --json --no-progress "$T/u"
  assert_eq "$(count error)" 2 "unreadable file and directory"
  assert_eq "$(summary_field objects)" 1 "the readable file was scanned"
  assert_contains "$T/err" "secret.txt"
  [ "$(grep -c . "$T/err")" = 2 ] || { cat "$T/err"; fail "one line per error expected"; }
}

test_vanished() {
  grep -q test_hooks "$SRCDIR/meson_options.txt"
  mkdir -p "$T/v"; printf 'a\n' >"$T/v/gone.txt"; printf 'b\n' >"$T/v/stays.txt"
  ANTIBODY_TEST_FAULT=vanish:gone.txt run 2 abj "$T/v"
  assert_eq "$(count error)" 1 "vanished file is an error"
  assert_contains "$T/err" "gone.txt"
  assert_eq "$(summary_field objects)" 1 "the sweep went on"
}

test_crash_isolation() {
  mkdir -p "$T/c"
  # Many small files: jobs queued behind the victim in its worker must go to another worker.
  for i in $(seq 60); do printf 'GOODMARKER %s\n' "$i" >"$T/c/f$i.txt"; done
  printf 'GOODMARKER crash\n' >"$T/c/victim.txt"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  ANTIBODY_TEST_FAULT=crash:victim.txt run 1 abj -j 2 --no-default-pack --rules "$T/g.yar" "$T/c"
  assert_eq "$(count finding)" 60 "all other files still scanned"
  assert_eq "$(summary_field objects)" 60 "objects"
  assert_eq "$(count error)" 1 "one error for the crashing file"
  $PY "$JQ" error-match victim.txt "signal" <"$T/out"
  ANTIBODY_TEST_FAULT=crash:victim.txt run 2 abj -j 2 --strict --no-default-pack --rules "$T/g.yar" "$T/c"
}

test_hang_timeout() {
  mkdir -p "$T/c"
  printf 'GOODMARKER 1\n' >"$T/c/a.txt"
  printf 'x\n' >"$T/c/spin.txt"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  ANTIBODY_TEST_FAULT=hang:spin.txt run 1 timeout 120 "$ANTIBODY" scan --json --no-progress -j 1 \
    --timeout 1 --no-default-pack --rules "$T/g.yar" "$T/c"
  assert_eq "$(count finding)" 1 "other file scanned"
  $PY "$JQ" error-match spin.txt "time limit" <"$T/out"
}

test_interrupt() {
  # SIGINT stops the sweep cleanly: no new objects, workers ended, summary with interrupted=true.
  mkdir -p "$T/c"
  printf 'x\n' >"$T/c/spin.txt"
  printf 'y\n' >"$T/c/other.txt"
  ANTIBODY_TEST_FAULT=hang:spin.txt "$ANTIBODY" scan --json --no-progress -j 1 \
    "$T/c" >"$T/out" 2>"$T/err" &
  local pid=$!
  BG_PIDS+=("$pid")
  # The handler is installed just before the workers are forked: wait for a worker.
  for _ in $(seq 100); do pgrep -P "$pid" >/dev/null && break; sleep 0.1; done
  pgrep -P "$pid" >/dev/null || fail "no worker started"
  sleep 0.3
  kill -INT "$pid"
  # Bounded wait: the hang would otherwise last the 60 s timeout + 10 s.
  wait_exit "$pid"
  assert_eq "$RC" 2 "exit status of an interrupted sweep"
  assert_eq "$(summary_field interrupted)" True "summary.interrupted"
  assert_contains "$T/err" "interrupted"
  if pgrep -f "antibody scan --json --no-progress -j 1 $T/c" >/dev/null; then
    fail "workers left behind"
  fi
}

test_group_sigterm() {
  # systemd (or kill -TERM -PGID) signals the whole process group: the sweep stops cleanly and no
  # object is blamed for the workers' SIGTERM. Workers hold no fd but their socket and stdio (not
  # the report file, not the walker's directories).
  # The first worker crashes on c1/crash.txt while the walker is already in c2/sub (a job is
  # queued behind a small file): its replacement is forked with those directories open, then
  # spins on spin.txt.
  mkdir -p "$T/c1" "$T/c2/sub"
  printf 'x\n' >"$T/c1/crash.txt"
  printf 'x\n' >"$T/c2/sub/spin.txt"
  ANTIBODY_TEST_FAULT=crash:crash.txt,hang:spin.txt setsid "$ANTIBODY" scan --json --no-progress \
    -j 1 --output "$T/report.jsonl" "$T/c1" "$T/c2" >/dev/null 2>"$T/err" &
  local pid=$!
  BG_PIDS+=("$pid")
  local w=""
  # Each event reaches the report as it happens: wait for the crash to be reported (the
  # replacement worker is forked then), not for a fixed time (slow under ASan on a busy machine).
  for _ in $(seq 200); do grep -q "killed by signal" "$T/report.jsonl" 2>/dev/null && break; sleep 0.1; done
  for _ in $(seq 100); do w=$(pgrep -P "$pid" | head -1 || true); [ -n "$w" ] && break; sleep 0.1; done
  [ -n "$w" ] || fail "no worker started"
  local fd t
  for fd in /proc/"$w"/fd/*; do
    t=$(readlink "$fd" || true)
    case "$t" in
      "$T/report.jsonl") fail "worker holds the report file" ;;
      "$T/c1" | "$T/c2" | "$T/c2/sub") fail "worker holds a walker directory ($t)" ;;
    esac
  done
  kill -TERM -- "-$pid"
  wait_exit "$pid"
  assert_eq "$RC" 2 "exit status of a stopped sweep"
  cp "$T/report.jsonl" "$T/out"
  assert_eq "$(summary_field interrupted)" True "summary.interrupted"
  if grep -q "signal 15" "$T/out"; then cat "$T/out"; fail "an object was blamed for SIGTERM"; fi
  $PY "$JQ" error-match crash.txt "killed by signal" <"$T/out"  # SIGSEGV (SIGABRT under ASan)
}

test_exit_codes() {
  mkdir -p "$T/e"; printf 'GOODMARKER\n' >"$T/e/hit"; printf 'x\n' >"$T/e/miss"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/e"
  assert_contains "$T/out" "good"
  run 0 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/e/miss"
  run 2 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/does-not-exist"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/e" "$T/does-not-exist"
  run 2 ab scan --no-progress --strict --no-default-pack --rules "$T/g.yar" "$T/e" "$T/does-not-exist"
  run 2 ab scan --no-progress --no-default-pack --output "$T/e/out.json" "$T/e"
  assert_contains "$T/err" "refusing"
  [ ! -e "$T/e/out.json" ] || fail "wrote into the scanned path"
  run 1 ab scan --no-progress --json --no-default-pack --rules "$T/g.yar" --output "$T/o.json" "$T/e"
  cp "$T/o.json" "$T/out"; assert_eq "$(count finding)" 1 "--output file"
  # Nothing to look for is an error, not a clean tree; --list without content is an inventory.
  run 2 ab scan --no-progress --no-default-pack "$T/e"
  assert_contains "$T/err" "nothing to look for"
  run 0 abj --no-default-pack --hash --list "$T/e"
  assert_eq "$(count object)" 2 "inventory objects"
  # Naming the default pack (or a pack twice) loads it once.
  run 1 ab scan --no-progress --pack apt29-2020 --pack apt29-2020 --rules "$T/g.yar" "$T/e"
  if grep -q duplicated "$T/err"; then cat "$T/err"; fail "pack loaded twice"; fi
  # --output on another file system is outside a sweep that stays on its own (/dev/shm vs /dev).
  if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ "$(stat -c %d /dev)" != "$(stat -c %d /dev/shm)" ]; then
    local o; o=$(mktemp -u /dev/shm/antibody-e2e-out.XXXXXX)
    BG_FILES+=("$o")
    run 2 ab scan --no-progress --no-default-pack --rules "$T/g.yar" --output "$o" /dev
    assert_contains "$T/err" "refusing"
    run 0 ab scan --no-progress --no-default-pack --one-file-system --allow-empty --rules "$T/g.yar" --output "$o" /dev
    [ -e "$o" ] || fail "--output with --one-file-system not written"
  fi
}

test_json_hostile_names() {
  mkdir -p "$T/j"
  printf 'GOODMARKER\n' >"$T/j/$(printf 'new\nline')"
  printf 'GOODMARKER\n' >"$T/j/quote\"back\\slash"
  printf 'GOODMARKER\n' >"$T/j/$(printf 'bad\xff\xfeutf8')"
  printf 'GOODMARKER\n' >"$T/j/$(printf 'esc\033[31mred')"
  printf 'GOODMARKER\n' >"$T/j/$(printf 'bidi\342\200\256gpj.exe')"  # U+202E
  printf 'GOODMARKER\n' >"$T/j/$(printf 'c1\302\2332J')"            # U+009B (CSI)
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  run 1 abj --no-default-pack --rules "$T/g.yar" "$T/j"
  $PY "$JQ" roundtrip "$T/j" <"$T/out"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/j"
  if grep -q $'\033' "$T/out"; then fail "raw escape byte reached the terminal output"; fi
  if grep -q $'\342\200\256\|\302\233' "$T/out"; then fail "bidi or C1 control reached the terminal output"; fi
  assert_contains "$T/out" 'new\x0aline'
  assert_contains "$T/out" 'bidi\u202egpj.exe'
  assert_contains "$T/out" 'c1\u009b2J'
}

test_excludes_depth() {
  mkdir -p "$T/d/a/b/c/d" "$T/d/skipme"
  for p in a a/b a/b/c a/b/c/d skipme; do printf 'GOODMARKER\n' >"$T/d/$p/f.txt"; done
  printf 'GOODMARKER\n' >"$T/d/a/f.log"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
  run 1 abj --no-default-pack --rules "$T/g.yar" --list-skipped --exclude skipme --exclude '*.log' \
    --max-depth 2 "$T/d"
  findings "$T/d/" | cut -f1 | sort >"$T/got"
  printf 'a/b/f.txt\na/f.txt\n' >"$T/want" # root is depth 0; a/b/c is depth 3
  diff "$T/want" "$T/got" || fail "exclude/depth"
  assert_eq "$($PY "$JQ" skips excluded <"$T/out")" 2 "excluded dir and file"
  assert_eq "$($PY "$JQ" skips max-depth <"$T/out")" 1 "deep dir"
}

test_process_memory() {
  printf 'rule mem_marker { strings: $a = "ANTIBODY_PROC_MARKER_7f3a" condition: $a }\n' >"$T/m.yar"
  printf 'rule mem_excluded { meta: memory = 0 strings: $a = "ANTIBODY_PROC_MARKER_7f3a" condition: $a }\n' >>"$T/m.yar"
  # The marker is assembled at run time, so it is in the process's heap but not its command line.
  $PY -c 'import sys,time; m = "ANTIBODY_PROC_" + "MARKER_7f3a"; print("ready", flush=True); time.sleep(60)' >"$T/ready" </dev/null 2>/dev/null &
  local pid=$!
  BG_PIDS+=("$pid")
  for _ in $(seq 50); do grep -q ready "$T/ready" && break; sleep 0.1; done
  run 1 abj --no-default-pack --rules "$T/m.yar" --list --pid "$pid"
  kill "$pid" 2>/dev/null || true
  $PY "$JQ" proc-finding "$pid" mem_marker <"$T/out"
  $PY "$JQ" proc-object "$pid" <"$T/out"
  assert_eq "$(count finding)" 1 "memory = 0 rule must not run on memory"
  run 2 abj --no-default-pack --rules "$T/m.yar" --pid 999999999
  assert_contains "$T/err" "pid:999999999"
}

test_processes_no_access() {
  # --processes sweeps what the caller may read: another user's process is a no-access skip, not
  # an error; naming it with --pid is an error that says why. pid 1 belongs to root.
  local cmd=("$ANTIBODY")
  if [ "$(id -u)" = 0 ]; then
    install -m 755 "$ANTIBODY" "$T/antibody-copy"
    cmd=(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/antibody-copy")
  fi
  printf 'rule r { strings: $a = "NOTHING_MATCHES_THIS_42" condition: $a }\n' >"$T/r.yar"
  set +e
  "${cmd[@]}" scan --json --no-progress --no-default-pack --list-skipped --timeout 5 \
    --rules "$T/r.yar" --processes >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "exit $rc"
  [ "$($PY "$JQ" skips no-access <"$T/out")" -ge 1 ] || fail "no no-access skip"
  if grep -q "attach\|permission denied" "$T/err"; then cat "$T/err"; fail "unreadable process reported as an error"; fi
  run 2 "${cmd[@]}" scan --json --no-progress --no-default-pack --rules "$T/r.yar" --pid 1
  assert_contains "$T/err" "pid:1: permission denied"
  assert_eq "$(count error)" 1 "one error for --pid 1"
}

test_never_scans_itself() {
  # Only antibody's own processes hold this rule's string (a process that exits writes the rule,
  # so this shell never holds it whole). A sweep of all processes must find nothing.
  $PY -c 'import sys; open(sys.argv[1], "w").write("rule self_marker { strings: $a = \"" + "ANTIBODY_SELF" + "_MARK_91c2" + "\" condition: $a }\n")' "$T/self.yar"
  set +e
  "$ANTIBODY" scan --json --no-progress --no-default-pack --list-skipped --rules "$T/self.yar" \
    --timeout 5 --processes >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "exit $rc (findings on itself?)"
  assert_eq "$(count finding)" 0 "antibody found its own rule string"
  [ "$($PY "$JQ" skips self <"$T/out")" -ge 1 ] || fail "no self skip reported"
  [ "$(summary_field objects)" -ge 1 ] || fail "no process scanned"
}

# ---------------------------------------------------------------------------------------------
# More tests live in one file per area (tests/e2e/t_<area>.sh), so that work on different areas
# does not edit the same lines; tests/e2e/meson.build lists each file's tests.
for f in "$SRCDIR"/tests/e2e/t_*.sh; do
  [ -f "$f" ] && . "$f"
done
name=${1:?usage: e2e.sh TEST_NAME}
"test_$name"
echo "ok: $name"
