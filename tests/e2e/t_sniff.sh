# shellcheck shell=bash
# End-to-end tests of antibody sniff (src/net/live.c, pool.c ab_pool_live): a live capture on lo
# with real traffic (python's http.server and curl, a DNS query over UDP), stopped with SIGINT.
# Need root (a capture on lo, and the drop to nobody); skipped otherwise. No timing assertions:
# every wait is for a condition, with a generous bound. Sourced by e2e.sh.

sniff_root() {
  [ "$(id -u)" = 0 ] || skip "antibody sniff needs root (a capture on lo)"
  command -v curl >/dev/null || skip "needs curl"
  return 0
}

SNIFF_EXTRA=()
SNIFF_IF=lo
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for FILE TEXT [SECONDS]: until FILE holds TEXT (fails after SECONDS, default 60).
wait_for() {
  for _ in $(seq $((${3:-60} * 10))); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1"; head -c 4000 "$1"; echo "--- stderr"; head -c 4000 "$T/err"
  fail "'$2' did not appear in $1"
}

# An HTTP server on $HTTP_PORT serving $T/www, and the content the tests look for.
sniff_setup() {
  HTTP_PORT=$(free_port)
  DNS_PORT=$(free_port)
  mkdir -p "$T/www"
  echo "hello from the sniff test: payload one" >"$T/www/one.txt"
  echo "hello from the sniff test: payload two" >"$T/www/two.txt"
  printf 'rule SniffBody { strings: $a = "hello from the sniff test" condition: $a }\n' >"$T/sniff.yar"
  printf 'domain\tc2.example\ttest C2 domain\n' >"$T/sniff.ioc"
  http_serve 127.0.0.1
}

# http_serve ADDR [COMMAND...]: Python's HTTP server for $T/www on ADDR:$HTTP_PORT, run under
# COMMAND (ip netns exec NS, say); returns once it answers.
http_serve() {
  local addr=$1
  shift
  "$@" $PY -m http.server "$HTTP_PORT" --bind "$addr" -d "$T/www" >/dev/null 2>&1 &
  BG_PIDS+=($!)
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://$addr:$HTTP_PORT/" && return 0
    sleep 0.1
  done
  fail "the test HTTP server on $addr did not start"
}

# sniff_start [ENV=VALUE...]: antibody sniff in the background (pid in SNIFF_PID), JSON in $T/out;
# returns once it says it is listening.
sniff_start() {
  env "$@" "$ANTIBODY" sniff -i "$SNIFF_IF" --json \
    --bpf "tcp port $HTTP_PORT or udp port $DNS_PORT${HELD_PORT:+ or tcp port $HELD_PORT}" \
    --no-progress --no-default-pack --rules "$T/sniff.yar" --ioc "$T/sniff.ioc" \
    "${SNIFF_EXTRA[@]}" >"$T/out" 2>"$T/err" &
  SNIFF_PID=$!
  BG_PIDS+=("$SNIFF_PID")
  wait_for "$T/err" "listening on $SNIFF_IF as nobody"
}

dns_query() { dns_query_to 127.0.0.1 "$1"; }

# dns_query_to ADDR NAME: one DNS query for NAME over UDP to ADDR:$DNS_PORT (nothing answers).
dns_query_to() {
  $PY - "$DNS_PORT" "$2" "$1" <<'EOF2'
import socket, struct, sys
name = sys.argv[2]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, (sys.argv[3], int(sys.argv[1])))
EOF2
}

# sniff_stop: SIGINT, then the exit status in RC (waits up to 60 s).
# sniff_stop [SIGNAL]: the normal end of a capture, by SIGINT (Ctrl-C) or the SIGNAL given.
sniff_stop() {
  local sig=${1:-INT}
  kill -"$sig" "$SNIFF_PID"
  for _ in $(seq 3); do
    wait_exit "$SNIFF_PID"
    [ "$RC" != 124 ] && return 0
  done
  fail "antibody sniff did not end after SIG$sig"
}

# crash_then_next FAULT: sniff with the test hook FAULT; a request from client port $p1 (the one
# the hook hits: an error comes), then one from $p2 (the capture went on), then the stop.
crash_then_next() {
  sniff_start "$1"
  curl -s -o /dev/null --local-port "$p1" "http://127.0.0.1:$HTTP_PORT/one.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" '"event":"error"'
  curl -s -o /dev/null --local-port "$p2" "http://127.0.0.1:$HTTP_PORT/two.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" "GET /two.txt"
  sniff_stop
}

test_sniff_http_dns() {
  sniff_root || return 0
  sniff_setup
  sniff_start
  # privileges dropped: the parent and its worker run as nobody
  nobody=$(id -u nobody)
  grep -q "^Uid:[[:space:]]*$nobody[[:space:]]*$nobody[[:space:]]*$nobody[[:space:]]*$nobody$" \
    "/proc/$SNIFF_PID/status" || { cat "/proc/$SNIFF_PID/status"; fail "the parent is not nobody"; }
  for c in $(pgrep -P "$SNIFF_PID"); do
    grep -q "^Uid:[[:space:]]*$nobody[[:space:]]" "/proc/$c/status" || fail "worker $c is not nobody"
  done
  grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$SNIFF_PID/status" || fail "no_new_privs not set"
  dns_query update.c2.example
  curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/one.txt"
  # the HTTP flow ends (the server closes): its body is scanned while the capture runs
  wait_for "$T/out" '"rule":"SniffBody"'
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1 (findings)"; }
  $PY - "$T/out" "$HTTP_PORT" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
port = int(sys.argv[2])
fs = [e for e in evs if e["event"] == "finding"]
loc = lambda e: [x["name"] for x in e["location"]]
body = [e for e in fs if e["rule"] == "SniffBody" and loc(e)[-1] == "response-body"]
assert body, fs
b = body[0]
assert b["path"] == "live:lo" and b["location"][0] == {"name": "live:lo", "source": "live"}, b
assert loc(b)[-2] == "GET /one.txt", loc(b)
f = b["flow"]
assert f["app_proto"] == "http" and f["proto"] == "tcp" and f["direction"] == "to_client", f
assert f["src_ip"] == "127.0.0.1" and f["dest_port"] == port, f
obs = [e for e in fs if e["matcher"] == "observable"]
assert any(e["value"] == "update.c2.example" and e["where"] == "dns.query"
           and e["flow"]["proto"] == "udp" for e in obs), obs
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
s = [e for e in evs if e["event"] == "summary"]
assert len(s) == 1 and evs[-1]["event"] == "summary", "the summary comes last, once"
s = s[0]
assert s["interrupted"] is False and s["errors"] == 0 and s["objects"] == 1, s
c = s["capture"]
assert c["interface"] == "lo" and c["packets"] >= 10 and c["bytes"] > 0, c
assert c["kernel_received"] >= c["packets"] and c["kernel_dropped"] == 0, c
assert c["dropped_worker_behind"] == 0 and c["worker_restarts"] == 0, c
print("ok", len(fs), "findings,", c["packets"], "packets")
EOF2
}

# Not root, but given CAP_NET_RAW (setpriv: user nobody, the capability ambient): the capture
# opens, the capability is dropped at once (none effective, permitted or ambient after), no
# user change is tried, and the flow is scanned as with root.
test_sniff_cap_net_raw() {
  sniff_root || return 0
  command -v setpriv >/dev/null || skip "needs setpriv"
  sniff_setup
  chmod 755 "$T"
  chmod 644 "$T/sniff.yar" "$T/sniff.ioc"
  sniff_start setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=+net_raw \
    --ambient-caps=+net_raw
  for k in CapEff CapPrm CapAmb; do
    grep -q "^$k:[[:space:]]*0*$" "/proc/$SNIFF_PID/status" ||
      { grep Cap "/proc/$SNIFF_PID/status"; fail "$k not empty once the capture is open"; }
  done
  curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/one.txt"
  wait_for "$T/out" '"rule":"SniffBody"'
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1 (findings)"; }
  grep -q '"event":"error"' "$T/out" && fail "errors: $(grep error "$T/out")"
  return 0
}

# -i any: Linux cooked frames (SLL2) rather than Ethernet; the body is read and found once.
test_sniff_any() {
  sniff_root || return 0
  sniff_setup
  SNIFF_IF=any
  sniff_start
  curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/one.txt"
  wait_for "$T/out" '"rule":"SniffBody"'
  sleep 1
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1 (findings)"; }
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
body = [e for e in evs if e["event"] == "finding" and e["rule"] == "SniffBody"
        and e["location"][-1]["name"] == "response-body"]
assert len(body) == 1, body
s = evs[-1]
assert s["capture"]["interface"] == "any" and s["capture"]["dropped_worker_behind"] == 0, s
assert s["network"]["malformed_frames"] == 0, s["network"]
print("ok", s["capture"]["packets"], "packets")
EOF2
}

# A veth pair into a network namespace: a real network device, unlike lo. It has Ethernet
# addresses, a 1500-byte MTU and the kernel's segmentation offloads, so frames can be larger
# than the MTU when GSO merges segments. Traffic: a 300 KB HTTP download with the rule's string
# at its very end, a DNS query, and a DNS query in an 802.1Q-tagged frame sent from the namespace
# with a packet socket. On receive the kernel moves the tag into the packet's metadata, and
# libpcap puts it back into the frame.
veth_setup() {
  command -v ip >/dev/null || skip "needs ip (iproute2)"
  VNS=abe2e$$ VH=abv$$h VN=abv$$n NET=10.213.$(($$ % 250))
  ip netns add "$VNS" 2>"$T/ip.err" ||
    skip "cannot make a network namespace: $(cat "$T/ip.err")"
  BG_NETNS+=("$VNS")
  # in a chroot whose root is no mount point, ip cannot enter the namespace (its mount step fails)
  ip netns exec "$VNS" true 2>"$T/ip.err" ||
    skip "cannot enter a network namespace here: $(cat "$T/ip.err")"
  ip link add "$VH" type veth peer name "$VN" netns "$VNS" || fail "ip link add veth"
  ip addr add "$NET.1/24" dev "$VH" && ip link set "$VH" up || fail "host end of the veth"
  ip -n "$VNS" addr add "$NET.2/24" dev "$VN" && ip -n "$VNS" link set "$VN" up &&
    ip -n "$VNS" link set lo up || fail "namespace end of the veth"
  HTTP_PORT=$(free_port) DNS_PORT=$(free_port) HELD_PORT=$(free_port)
  mkdir -p "$T/www"
  $PY -c 'import random,sys; sys.stdout.buffer.write(random.Random(5).randbytes(300000) +
    b"hello from the sniff test: the end of big.bin")' >"$T/www/big.bin"
  printf 'rule SniffBody { strings: $a = "hello from the sniff test" condition: $a }\n' >"$T/sniff.yar"
  printf 'domain\tc2.example\ttest C2 domain\nip\t%s.2\tthe namespace end\n' "$NET" >"$T/sniff.ioc"
  http_serve "$NET.2" ip netns exec "$VNS"
}

# vlan_dns_query NAME: from the namespace, a DNS query for NAME to $NET.1:$DNS_PORT in a frame
# tagged with VLAN 42, written whole to the namespace's end of the veth.
vlan_dns_query() {
  ip netns exec "$VNS" $PY - "$VN" "$(cat "/sys/class/net/$VH/address")" "$NET" "$DNS_PORT" "$1" \
    <<'EOF2' || fail "the tagged frame was not sent"
import socket, struct, sys
ifname, mac, net, port, name = sys.argv[1:]
q = struct.pack(">HHHHHH", 0x4243, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
udp = struct.pack(">HHHH", 40000, int(port), 8 + len(q), 0) + q
ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                           socket.inet_aton(net + ".2"), socket.inet_aton(net + ".1")))
c = sum(struct.unpack(">10H", bytes(ip)))
c = (c & 0xffff) + (c >> 16)
ip[10:12] = struct.pack(">H", ~c & 0xffff)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src = s.getsockname()[4]
s.send(bytes.fromhex(mac.replace(":", "")) + src + b"\x81\x00" + struct.pack(">H", 42) +
       b"\x08\x00" + bytes(ip) + udp)
EOF2
}

# held_connection HOST: a TCP connection from here to a listener in the namespace on $HELD_PORT,
# an HTTP request for HOST sent and no answer, both ends open until $T/release exists (at most
# 120 s). The client's pid in HELD_PID.
held_connection() {
  ip netns exec "$VNS" $PY - "$NET.2" "$HELD_PORT" "$T/release" <<'EOF2' &
import os, socket, sys, time
ls = socket.socket()
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(1)
open(sys.argv[3] + ".listening", "w").close()
c, _ = ls.accept()
for _ in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.1)
c.close()
EOF2
  BG_PIDS+=($!)
  for _ in $(seq 100); do [ -e "$T/release.listening" ] && break; sleep 0.1; done
  $PY - "$NET.2" "$HELD_PORT" "$T/release" "$1" <<'EOF2' &
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /beacon HTTP/1.1\r\nHost: %s\r\nUser-Agent: held\r\n\r\n" % sys.argv[4].encode())
for _ in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.1)
s.close()
EOF2
  HELD_PID=$!
  BG_PIDS+=("$HELD_PID")
}

test_sniff_veth() {
  sniff_root || return 0
  veth_setup || return 0
  SNIFF_IF=$VH
  SNIFF_EXTRA=(--flows)
  sniff_start
  curl -s -o "$T/got.bin" "http://$NET.2:$HTTP_PORT/big.bin" || fail "curl over the veth"
  cmp -s "$T/got.bin" "$T/www/big.bin" || fail "the download is not the file"
  dns_query_to "$NET.2" plain.c2.example
  vlan_dns_query vlan.c2.example
  wait_for "$T/out" '"rule":"SniffBody"'
  wait_for "$T/out" '"value":"vlan.c2.example"'
  # A connection that stays open (a beacon's keep-alive channel): the Host it named is said while
  # it is open, not when it ends (TCP's idle timeout is 300 s, after this wait's bound).
  held_connection beacon.c2.example
  wait_for "$T/out" '"value":"beacon.c2.example"'
  ! grep '"type":"conn"' "$T/out" | grep -q "\"dest_port\":$HELD_PORT," ||
    fail "the held connection ended before its Host was said"
  touch "$T/release"
  wait "$HELD_PID" || fail "the held connection failed"
  sniff_stop TERM # as a service manager stops it: the same clean end as Ctrl-C
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1 (findings)"; }
  $PY - "$T/out" "$NET" "$HTTP_PORT" "$(sha256sum <"$T/www/big.bin" | cut -d' ' -f1)" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
net, port, sha = sys.argv[2], int(sys.argv[3]), sys.argv[4]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
fs = [e for e in evs if e["event"] == "finding"]
body = [e for e in fs if e["rule"] == "SniffBody" and e["location"][-1]["name"] == "response-body"]
assert len(body) == 1, body
f = body[0]["flow"]
assert (f["src_ip"], f["dest_ip"], f["dest_port"]) == (net + ".1", net + ".2", port), f
assert "vlan" not in f, f
http = [e["http"] for e in evs if e["event"] == "flow" and e["type"] == "http"]
assert sorted(h["uri"] for h in http) == ["/beacon", "/big.bin"], http
h = [h for h in http if h["uri"] == "/big.bin"][0]
# the whole body, reassembled from MTU-sized or offloaded segments, hashes as the file
assert h["response_body_len"] == 300000 + 45 and h["response_body_sha256"] == sha, h
obs = {e["value"]: e for e in fs if e["matcher"] == "observable" and e["where"] == "dns.query"}
assert obs["plain.c2.example"]["flow"].get("vlan") is None, obs
v = obs["vlan.c2.example"]["flow"]
assert v["vlan"] == 42 and v["src_ip"] == net + ".2" and v["proto"] == "udp", v
# said while its flow was open: a member of its own, with the flow's location, before the end
b = [e for e in fs if e["matcher"] == "observable" and e["value"] == "beacon.c2.example"]
assert len(b) == 1 and b[0]["where"] == "http.host" and b[0]["flow"]["direction"] == "to_server", b
ends = [i for i, e in enumerate(evs) if e["event"] == "flow" and e["type"] == "conn"
        and e["flow"]["id"] == b[0]["flow"]["id"]]
assert ends and evs.index(b[0]) < ends[0], "the Host was said after its flow ended"
# the endpoints are matched once per flow, at its first frame
ips = [e for e in fs if e["matcher"] == "observable" and e["where"].startswith("flow.")]
assert len(ips) >= 4 and len(ips) == len({(e["flow"]["id"], e["where"]) for e in ips}), ips
s = evs[-1]
assert s["event"] == "summary" and s["capture"]["interface"].startswith("abv"), s
assert not s["interrupted"] and s["errors"] == 0, s  # SIGTERM is a normal end
assert s["capture"]["kernel_dropped"] == 0 and s["capture"]["dropped_worker_behind"] == 0, s
n = s["network"]
assert n["malformed_frames"] == 0 and n["truncated_frames"] == 0 and n["gaps"] == 0, n
print("ok", s["capture"]["packets"], "packets")
EOF2
}

test_sniff_errors() {
  sniff_root || return 0
  printf 'rule R { strings: $a = "x-sniff-x" condition: $a }\n' >"$T/r.yar"
  run 2 ab sniff --no-default-pack --rules "$T/r.yar" -i ab-no-such-if0
  [ "$(grep -c error "$T/err")" = 1 ] || { cat "$T/err"; fail "not one error line"; }
  assert_contains "$T/err" "sniff: cannot open ab-no-such-if0"
  run 2 ab sniff --no-default-pack --rules "$T/r.yar" -i lo --bpf "tcp port nonsense or"
  [ "$(grep -c error "$T/err")" = 1 ] || { cat "$T/err"; fail "not one error line"; }
  assert_contains "$T/err" "bad --bpf filter"
  run 2 ab sniff --no-default-pack --rules "$T/r.yar" -i lo --user ab-no-such-user
  assert_contains "$T/err" "no user 'ab-no-such-user'"
  run 2 ab sniff --no-default-pack --rules "$T/r.yar"
  assert_contains "$T/err" "give the interface"
  run 2 ab scan --bpf "tcp" /tmp
  assert_contains "$T/err" "are for antibody sniff"
  # without root or CAP_NET_RAW: said in one line
  if command -v setpriv >/dev/null; then
    set +e
    setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all \
      "$ANTIBODY" sniff --no-default-pack --rules "$T/r.yar" -i lo >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" = 2 ] || fail "exit $rc without privileges, expected 2"
    assert_contains "$T/err" "root or CAP_NET_RAW is needed"
  fi
  # a scan's -i is still --ioc
  printf 'domain\tc2.example\ttest\n' >"$T/e.ioc"
  : >"$T/empty"
  run 0 ab scan --no-progress --no-default-pack -i "$T/e.ioc" "$T/empty"
  assert_contains "$T/err" "0 YARA rules and 1 IOCs loaded"
}

test_sniff_crash_goes_on() {
  sniff_root || return 0
  sniff_setup
  p1=$(free_port)
  p2=$(free_port)
  # the worker crashes on what the first client sent: that flow is lost, the capture goes on
  crash_then_next "ANTIBODY_TEST_FAULT=crash:127.0.0.1:$p1->127.0.0.1:$HTTP_PORT"
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1 (findings, and an error)"; }
  [ "$(grep -c "error:" "$T/err")" = 1 ] || { cat "$T/err"; fail "not one error line"; }
  $PY - "$T/out" "$p1" "$p2" "$HTTP_PORT" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
p1, p2, port = sys.argv[2:5]
loc = lambda e: [x["name"] for x in e["location"]]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1, errs
e = errs[0]
assert loc(e) == ["live:lo", "127.0.0.1:%s->127.0.0.1:%s" % (p1, port)], loc(e)
# SIGSEGV; under ASan the worker's sanitizer reports and exits, or aborts (abort_on_error)
assert ("SIGSEGV" in e["message"] or "SIGABRT" in e["message"] or "exited" in e["message"]) \
    and "on this member" in e["message"], e
assert "lost" in e["message"] and "new worker" in e["message"], e
fs = [e for e in evs if e["event"] == "finding" and e["rule"] == "SniffBody"]
assert any(loc(f)[-2:] == ["GET /two.txt", "response-body"] and f["flow"]["src_port"] == int(p2)
           for f in fs), fs
s = evs[-1]
assert s["event"] == "summary" and s["errors"] == 1 and not s["interrupted"], s
assert s["capture"]["worker_restarts"] == 1, s["capture"]
print("ok")
EOF2
}

# The summary of a capture whose worker was lost sums its workers: what the lost worker reported
# (its members, the bytes and network counters of the frames it took) before it was lost, and
# what the next one counted. Three HTTP flows: the first scanned by the first worker, the second
# crashes it, the third is the new worker's.
test_sniff_restart_summary() {
  sniff_root || return 0
  sniff_setup
  p0=$(free_port)
  p1=$(free_port)
  p2=$(free_port)
  SNIFF_EXTRA=(--list)
  sniff_start "ANTIBODY_TEST_FAULT=crash:127.0.0.1:$p1->127.0.0.1:$HTTP_PORT"
  curl -s -o /dev/null --local-port "$p0" "http://127.0.0.1:$HTTP_PORT/one.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" '"rule":"SniffBody"'
  curl -s -o /dev/null --local-port "$p1" "http://127.0.0.1:$HTTP_PORT/one.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" '"event":"error"'
  curl -s -o /dev/null --local-port "$p2" "http://127.0.0.1:$HTTP_PORT/two.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" "GET /two.txt"
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1"; }
  $PY - "$T/out" "$p0" "$p2" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
p0, p2 = int(sys.argv[2]), int(sys.argv[3])
s = evs[-1]
assert s["event"] == "summary" and s["errors"] == 1 and s["capture"]["worker_restarts"] == 1, s
members = [e for e in evs if e["event"] == "object" and len(e["location"]) > 1]
ports = {e["flow"]["src_port"] for e in members} | {e["flow"]["dest_port"] for e in members}
assert p0 in ports and p2 in ports, ports  # members of both workers
# every member scanned counts, the lost worker's as well
assert s["members"] == len(members), (s["members"], len(members))
assert s["member_bytes"] == sum(e["size"] for e in members), s
n, c = s["network"], s["capture"]
assert n["captures"] == 1, n
# the first flow's frames were taken (and reported) by the first worker, the third's by the second
assert n["flows"] >= 2 and n["frames"] <= c["packets"] and n["bytes"] <= c["bytes"], (n, c)
assert s["bytes"] == n["bytes"], (s["bytes"], n["bytes"])  # the frames the workers took
print("ok", s["members"], "members,", n["flows"], "flows")
EOF2
}

# A crash in the pipeline between members (test hook crash-parse:PORT: as the flow from client
# port PORT gives its first bytes to the parser) is blamed on that flow, not on "decoding and
# parsing frames"; the capture goes on in a new worker.
test_sniff_parser_crash_flow() {
  sniff_root || return 0
  sniff_setup
  p1=$(free_port)
  p2=$(free_port)
  crash_then_next "ANTIBODY_TEST_FAULT=crash-parse:$p1"
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1"; }
  assert_contains "$T/err" "live:lo!127.0.0.1:$p1->127.0.0.1:$HTTP_PORT: scanner worker"
  $PY - "$T/out" "$p1" "$HTTP_PORT" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1, errs
e = errs[0]
assert e["location"] == [{"name": "live:lo", "source": "live"},
                         {"name": "127.0.0.1:%s->127.0.0.1:%s" % tuple(sys.argv[2:4]),
                          "source": "flow"}], e
m = e["message"]
assert "while parsing this flow" in m and "decoding" not in m and "new worker" in m, m
assert evs[-1]["event"] == "summary" and evs[-1]["capture"]["worker_restarts"] == 1, evs[-1]
print("ok")
EOF2
}

# Backpressure: a worker that falls more than 64 MiB behind (test hook stall-live:N: it waits N
# seconds before its first batch) costs whole batches, dropped by the parent and counted in
# dropped_worker_behind; the capture goes on, with no error and no restart, and what the worker
# took is what it counted.
test_sniff_backpressure() {
  sniff_root || return 0
  sniff_setup
  head -c $((96 << 20)) /dev/zero >"$T/www/big.bin"
  sniff_start "ANTIBODY_TEST_FAULT=stall-live:8"
  # at a rate the parent keeps up with (lo is faster than its reads)
  curl -s --limit-rate 24M -o /dev/null "http://127.0.0.1:$HTTP_PORT/big.bin" || echo "curl exit $?" >&2
  sleep 10 # the worker wakes (64 MiB behind after 3 s at 24 MB/s), takes what was kept
  curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/one.txt" || echo "curl exit $?" >&2
  wait_for "$T/out" '"rule":"SniffBody"' 120
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1"; }
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
s = evs[-1]
c, n = s["capture"], s["network"]
assert s["event"] == "summary" and c["worker_restarts"] == 0, s
assert c["dropped_worker_behind"] > 0, c
# every frame read was either taken by the worker or dropped, in whole batches
assert n["frames"] + c["dropped_worker_behind"] == c["packets"], (n, c)
assert n["bytes"] < c["bytes"] and s["bytes"] == n["bytes"], (s["bytes"], n, c)
print("ok", c["dropped_worker_behind"], "of", c["packets"], "frames dropped")
EOF2
}

test_sniff_member_deadline() {
  sniff_root || return 0
  sniff_setup
  p1=$(free_port)
  p2=$(free_port)
  # a member that never ends: killed at its deadline (--timeout 1 + 10 s), blamed on its flow
  SNIFF_EXTRA=(--timeout 1)
  sniff_start "ANTIBODY_TEST_FAULT=hang:127.0.0.1:$p1->127.0.0.1:$HTTP_PORT"
  curl -s -o /dev/null --local-port "$p1" "http://127.0.0.1:$HTTP_PORT/one.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" '"event":"error"' 120
  curl -s -o /dev/null --local-port "$p2" "http://127.0.0.1:$HTTP_PORT/two.txt" ||
    echo "curl exit $?" >&2
  wait_for "$T/out" "GET /two.txt"
  sniff_stop
  [ "$RC" = 1 ] || { cat "$T/err"; fail "exit $RC, expected 1"; }
  $PY - "$T/out" "$p1" "$HTTP_PORT" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1, errs
assert [x["name"] for x in errs[0]["location"]][-1] == "127.0.0.1:%s->127.0.0.1:%s" % tuple(sys.argv[2:4])
assert "time limit" in errs[0]["message"] and "new worker" in errs[0]["message"], errs[0]
assert evs[-1]["event"] == "summary" and evs[-1]["capture"]["worker_restarts"] == 1, evs[-1]
print("ok")
EOF2
}
