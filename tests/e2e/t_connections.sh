# shellcheck shell=bash
# End-to-end tests of the live-connection check (--connections, and as part of --processes).
# Sourced by e2e.sh (helpers and $T come from there).

# conn_fixture: a listener on 127.0.0.1 (this python process) and a child process connected to
# it that stays alive; sets CONN_PORT, CONN_CHILD (the connecting process) and CONN_SERVER.
conn_fixture() {
  $PY - "$T/conn.info" <<'EOF' &
import os, socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
port = srv.getsockname()[1]
child = os.fork()
if child == 0:
    srv.close()
    c = socket.create_connection(("127.0.0.1", port))
    time.sleep(120)
    os._exit(0)
conn, _ = srv.accept()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d %d %d\n" % (port, child, os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
try:
    os.waitpid(child, 0)
except KeyboardInterrupt:
    pass
EOF
  BG_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$T/conn.info" ] && break; sleep 0.1; done
  [ -s "$T/conn.info" ] || fail "the connection fixture did not start"
  read -r CONN_PORT CONN_CHILD CONN_SERVER <"$T/conn.info"
  BG_PIDS+=("$CONN_CHILD")
}

# conn_check PID PORT [unknown]: $T/out has a connection finding for the client end (remote
# 127.0.0.1:PORT, ESTABLISHED) held by PID, or with "unknown": one whose holder is unknown.
conn_check() {
  $PY - "$T/out" "$1" "$2" "${3:-}" <<'EOF'
import json, sys
pid, port, unknown = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "unknown"
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert evs[-1]["event"] == "summary", evs[-1]
fs = [e for e in evs if e["event"] == "finding"]
for f in fs:
    c = f.get("connection")
    assert f["matcher"] == "connection" and c, f
    if c["remote_address"] != "127.0.0.1" or c["remote_port"] != port:
        continue
    assert c["protocol"] == "tcp" and c["state"] == "ESTABLISHED" and c["matched"] == "remote", c
    assert c["local_address"] == "127.0.0.1" and c["inode"] > 0, c
    if unknown:
        if "pid" not in f and f["path"] == "socket:%d" % c["inode"]:
            assert "owning process unknown" in f["reason"], f["reason"]
            sys.exit(0)
    elif f.get("pid") == pid:
        assert f["path"] == "pid:%d" % pid, f
        assert f["process_name"] and "python" in f["process_name"], f
        assert f["reason"] == "remote address is in a cidr IOC" or f["reason"] == "remote address is an ip IOC", f
        sys.exit(0)
sys.exit("no finding for the connection of pid %d to port %d in %s" % (pid, port, fs))
EOF
}

test_connections() {
  conn_fixture
  printf 'cidr\t127.0.0.0/8\tloopback as a test C2 range\t\t90\ndomain\tc2.example\n' >"$T/c2.ioc"
  run 1 abj --no-default-pack -i "$T/c2.ioc" --connections
  conn_check "$CONN_CHILD" "$CONN_PORT"
  [ "$(summary_field objects)" -ge 3 ] || fail "sockets not counted as objects"
  assert_eq "$(summary_field findings)" "$(count finding)" "summary findings"
  # the exact address as an ip IOC, and as a Loki c2 list
  printf 'ip\t127.0.0.1\n' >"$T/one.ioc"
  run 1 abj --no-default-pack -i "$T/one.ioc" --connections
  conn_check "$CONN_CHILD" "$CONN_PORT"
  printf '# test c2\n127.0.0.1;85\n' >"$T/test-c2-iocs.txt"
  run 1 abj --no-default-pack -i "$T/test-c2-iocs.txt" --connections
  conn_check "$CONN_CHILD" "$CONN_PORT"
  # the console line names the process and the connection; ip/cidr count as matched now
  run 1 ab scan --no-progress --no-default-pack -i "$T/c2.ioc" --connections
  assert_contains "$T/out" "[CRITICAL] pid:$CONN_CHILD (python"
  assert_contains "$T/out" " -> 127.0.0.1:$CONN_PORT ESTABLISHED"
  assert_contains "$T/err" "2 IOCs loaded (not matched by this scan: 1 network/mail IOC)"
  # an address no socket has: no finding
  printf 'ip\t192.0.2.77\ncidr\t198.51.100.0/24\n' >"$T/miss.ioc"
  run 0 abj --no-default-pack -i "$T/miss.ioc" --connections
  assert_eq "$(count finding)" 0 "findings for an address no socket has"
  # nothing to look for: no ip or cidr IOC
  printf 'domain\tc2.example\n' >"$T/dom.ioc"
  run 2 abj --no-default-pack -i "$T/dom.ioc" --connections
  assert_contains "$T/err" "no ip or cidr IOCs loaded"
  run 2 ab scan --pid 1 /tmp  # PATHs go with --connections/--processes, not with --pid
  assert_contains "$T/err" "not both"
  run 2 ab scan --connections --pid 1
  assert_contains "$T/err" "--pid"
}

test_connections_processes() {
  # --processes runs the connection check too, with one summary
  conn_fixture
  printf 'ip\t127.0.0.1\t\t\t75\n' >"$T/one.ioc"
  run 1 abj --no-default-pack -i "$T/one.ioc" --timeout 5 --processes
  conn_check "$CONN_CHILD" "$CONN_PORT"
  assert_eq "$($PY -c 'import sys; print(sum(1 for l in sys.stdin if l.startswith("{\"event\":\"summary\"")))' <"$T/out")" 1 "summaries"
  run 1 ab scan --no-progress --no-default-pack -i "$T/one.ioc" --timeout 5 --processes
  if grep -q "not matched by this scan" "$T/err"; then cat "$T/err"; fail "ip counted as unmatched"; fi
}

test_connections_owner_unknown() {
  # Another user's socket: its holder cannot be read without root; the match is still reported,
  # with the socket as its path and the reason saying why.
  [ "$(id -u)" = 0 ] || skip "needs root to run as another user"
  conn_fixture
  install -m 755 "$ANTIBODY" "$T/antibody-copy"
  printf 'cidr\t127.0.0.0/8\n' >"$T/c2.ioc"
  chmod 644 "$T/c2.ioc"
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$T/antibody-copy" scan --json \
    --no-progress --no-default-pack -i "$T/c2.ioc" --connections >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  assert_eq "$rc" 1 "exit status"
  conn_check 0 "$CONN_PORT" unknown
}
