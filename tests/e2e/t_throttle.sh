# shellcheck shell=bash
# End-to-end tests of sweeping gently: --nice, --max-cpu, --max-io. Sourced by e2e.sh. (No
# timing assertions: what is checked is that the limits reach the workers.)

test_throttle_nice() {
  # --nice: workers run at nice 19 in the idle I/O class.
  mkdir -p "$T/n"
  printf 'x\n' >"$T/n/spin.txt"
  printf 'rule r { strings: $a = "NEVER_THERE_73" condition: $a }\n' >"$T/r.yar"
  ANTIBODY_TEST_FAULT=hang:spin.txt "$ANTIBODY" scan --no-progress --no-default-pack --nice \
    --timeout 1 -j 1 --rules "$T/r.yar" "$T/n" >"$T/out" 2>"$T/err" &
  local pid=$! w=""
  BG_PIDS+=("$pid")
  for _ in $(seq 100); do w=$(pgrep -P "$pid" | head -1 || true); [ -n "$w" ] && break; sleep 0.1; done
  [ -n "$w" ] || fail "no worker started"
  local nice; nice=$(awk '{print $19}' "/proc/$w/stat")
  assert_eq "$nice" 19 "worker nice value"
  if command -v ionice >/dev/null; then
    ionice -p "$w" >"$T/io"
    assert_contains "$T/io" "idle"
  fi
  kill "$pid"
  wait_exit "$pid"
}

test_throttle_limits() {
  mkdir -p "$T/l"
  for i in 1 2 3; do head -c 20000 /dev/zero >"$T/l/f$i"; done
  printf 'rule r { strings: $a = "NEVER_THERE_73" condition: $a }\n' >"$T/r.yar"
  run 0 ab scan --no-progress --no-default-pack --max-cpu 50 --max-io 100M --rules "$T/r.yar" "$T/l"
  assert_contains "$T/out" "3 objects"
  run 2 ab scan --max-cpu 0 "$T/l"
  assert_contains "$T/err" "--max-cpu: expected 1..100"
  run 2 ab scan --max-cpu 101 "$T/l"
  run 2 ab scan --max-io 0 "$T/l"
  assert_contains "$T/err" "--max-io: expected a rate"
}
