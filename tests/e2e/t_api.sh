# shellcheck shell=bash
# The shared library exports exactly the public API (include/antibody/antibody.h, AB_API), so
# programs cannot come to depend on internals. Sourced by e2e.sh.

test_api_exports() {
  local so; so=$(ls "$(dirname "$ANTIBODY")"/libantibody.so.* 2>/dev/null | head -1)
  [ -n "$so" ] || fail "no libantibody.so next to $ANTIBODY"
  nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^_' | sort -u >"$T/exported"
  sed -n 's/^AB_API .*[ *]\(ab_[a-z_0-9]*\)(.*/\1/p' "$SRCDIR/include/antibody/antibody.h" | sort -u >"$T/declared"
  [ -s "$T/declared" ] || fail "no AB_API declarations found"
  if ! diff -u "$T/declared" "$T/exported" >"$T/diff"; then cat "$T/diff"; fail "exports differ from the public header"; fi
}
