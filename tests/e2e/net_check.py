#!/usr/bin/env python3
"""net_check.py JSONL CAPTURE...: antibody's --flows records against tshark's fields.

JSONL is `antibody pcap --flows` output for all the CAPTUREs (its records say their path).
tshark reads each capture once (-T fields, every field below in one run). When a captures.json
from gen_captures.py lies beside a capture and names it, its port is decoded as the capture's
protocol (`-d`): the servers listen on random ports. The values antibody extracts must be exactly
those tshark extracts, per capture, as multisets of one tuple per transaction, each with its
flow's client and server ports (a value is matched in its flow, not only somewhere in the file):
  http: (http.host, http.request.uri, http.user_agent) of every request
  dns:  dns.qry.name of every query (qr false) and of every response (qr true)
  tls:  per handshake (a ClientHello, and the ServerHello and certificates after it in its TCP
        stream): tls.handshake.extensions_server_name, tls.handshake.ja3, tls.handshake.ja3s, and
        the SHA-1 and SHA-256 (hashlib) of every tls.handshake.certificate in the order sent, the
        server's chain and the client's (mutual TLS); antibody's server_certs[] and
        client_certs[] sha1/sha256
  smtp: per flow, the HELO/EHLO command and name, the MAIL FROM addresses and the RCPT TO
        addresses (smtp.req.command, smtp.req.parameter; what is said in the clear only)
A capture with none of these is checked too: both sides must be empty. A field this tshark does
not know (`tshark -G fields`) is left out of the comparison with a note if it is JA3 or JA3S
(not every tshark build has them); any other missing field is a failure. EXCLUDED names
the captures where tshark and antibody legitimately differ, with why. Prints one line "ok ..."
when everything agrees; else a diff per capture and field, and exits 1. A check that finds no
value at all in any capture fails too (a test that can fail).
"""
import collections
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys

# capture file name -> why it is not compared (a one-line reason: where tshark and antibody
# legitimately differ). None today: the synthetic captures libpcap cuts short where tshark reads
# on (mixed_if.pcapng, snaplen_if.pcapng: an interface libpcap refuses; truncated_file.pcap) hold
# no comparable value in the frames only tshark reads, and they are compared like the others.
EXCLUDED = {}

HTTP = ["http.request.method", "http.host", "http.request.uri", "http.user_agent"]
DNS = ["dns.count.queries", "dns.qry.name", "dns.flags.response"]
TLS = ["tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ja3",
       "tls.handshake.ja3s", "tls.handshake.certificate"]
SMTP = ["smtp.req.command", "smtp.req.parameter"]
PORTS = ["tcp.stream", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]
FIELDS = ["frame.number"] + PORTS + HTTP + DNS + TLS + SMTP
OPTIONAL = {"tls.handshake.ja3", "tls.handshake.ja3s"}  # "where this tshark has them"
AGG = "\x1f"  # aggregates the occurrences of a field in a frame: no field value holds it


def known_fields():
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True,
                         check=True).stdout
    return {line.split("\t")[2] for line in out.splitlines() if line.startswith("F\t")}


def decode_as(cap):
    """-d options for a gen_captures.py capture on a random port, from its captures.json."""
    facts_path = os.path.join(os.path.dirname(cap), "captures.json")
    if not os.path.exists(facts_path):
        return []
    f = json.load(open(facts_path)).get(os.path.basename(cap))
    if f is None:
        return []
    p = f["port"]
    if "sni" in f:
        return ["-d", "tcp.port==%d,tls" % p]
    if "helo" in f:
        return ["-d", "tcp.port==%d,smtp" % p]
    if "udp_queries" in f:
        return ["-d", "udp.port==%d,dns" % p, "-d", "tcp.port==%d,dns" % p]
    return ["-d", "tcp.port==%d,http" % p]


class Ambiguous(Exception):
    """A frame whose aggregated fields cannot be told apart per transaction."""


def tshark_rows(cap, fields):
    cmd = ["tshark", "-n", "-r", cap, "-Y", "http.request || dns || tls.handshake || smtp.req",
           "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + AGG] + decode_as(cap)
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    # a capture cut in its last record (truncated_file.pcap): tshark says so and exits 2 after
    # the frames before it, as antibody reads them
    if p.returncode != 0 and not (p.returncode == 2 and "cut short in the middle of a packet" in
                                  p.stderr):
        raise SystemExit("net_check: %s: tshark exited %d: %s" % (cap, p.returncode, p.stderr))
    rows = []
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        rows.append({f: (c.split(AGG) if c else []) for f, c in zip(fields, cols)})
    return rows


def frame(row):
    return row["frame.number"][0]


def last(row, f):
    # a tunnel (VXLAN: UDP in UDP) gives the outer layer's value first, the inner one last
    return row[f][-1] if row[f] else ""


def per_pdu(row, fields, n, what):
    """The values of fields for each of n PDUs of a frame: one occurrence per PDU, or none at all
    (absent in every PDU). Several PDUs with a field absent in some only cannot be aligned: that
    is said, not guessed."""
    out = []
    for f in fields:
        v = row.get(f)
        if v is None:  # a field this tshark lacks (OPTIONAL)
            out.append([None] * n)
        elif len(v) == n:
            out.append(v)
        elif not v:  # none of the frame's PDUs has it: each one's is empty
            out.append([""] * n)
        else:
            raise Ambiguous("frame %s: %d %s PDUs but %d %s" % (frame(row), n, what, len(v), f))
    return list(zip(*out))


def smtp_addr(param, verb):
    """FROM:<a@b> SIZE=1 -> a@b (tshark's smtp.req.parameter of MAIL and RCPT)."""
    p = param.strip()
    if p.upper().startswith(verb + ":"):
        p = p[len(verb) + 1:].strip()
    if p.startswith("<") and ">" in p:
        return p[1:p.index(">")]
    return p.split(" ")[0]


def theirs(cap, fields):
    """tshark's transactions of cap, or the reason they cannot be told apart (a string)."""
    try:
        return transactions(tshark_rows(cap, fields))
    except Ambiguous as e:
        return "%s: tshark's fields cannot be aligned per transaction: %s" % (cap, e)


def transactions(rows):
    got = collections.defaultdict(list)
    tls = {}  # tcp.stream -> handshakes, in order
    smtp = {}  # tcp.stream -> ports, helo set, mail from, rcpt to
    for row in rows:
        tcp = (last(row, "tcp.srcport"), last(row, "tcp.dstport"))
        udp = (last(row, "udp.srcport"), last(row, "udp.dstport"))
        ports = tcp if tcp[0] else udp
        n = len(row["http.request.method"])
        for method, host, uri, ua in per_pdu(row, HTTP, n, "HTTP request"):
            got["http"].append((ports, host, uri, ua))
        # DNS: the names of each message of the frame (several over TCP) by its question count;
        # a lone message has them all, whatever its count says
        counts, names = row["dns.count.queries"], row["dns.qry.name"]
        flags = row["dns.flags.response"]
        if len(counts) != len(flags) or (len(flags) > 1 and sum(map(int, counts)) != len(names)):
            raise Ambiguous("frame %s: DNS messages %s, flags %s, %d names" % (
                frame(row), counts, flags, len(names)))
        if len(flags) == 1:
            counts = [len(names)]
        names = iter(names)
        for c, qr in zip(counts, flags):
            client = ports if qr == "0" else ports[::-1]  # the flow is the querier's
            for _ in range(int(c)):
                got["dns"].append((client, next(names), "response" if qr == "1" else "query"))
        # TLS: a handshake per ClientHello (its client is the flow's client), ServerHello and
        # certificates of either side after it in its stream
        types = row["tls.handshake.type"]
        stream = last(row, "tcp.stream")
        hs = tls.setdefault(stream, [])
        if "1" in types:
            if types.count("1") > 1:
                raise Ambiguous("frame %s: several ClientHellos" % frame(row))
            sni, ja3 = per_pdu(row, TLS[1:3], 1, "ClientHello")[0]
            hs.append({"ports": ports, "sni": sni, "ja3": ja3,
                       "ja3s": "" if "tls.handshake.ja3s" in row else None, "server": [],
                       "client": []})
        if hs and "2" in types:
            hs[-1]["ja3s"] = per_pdu(row, ["tls.handshake.ja3s"], 1, "ServerHello")[0][0]
        if hs and "11" in types:
            if ports == hs[-1]["ports"][::-1]:
                side = "server"
            elif ports == hs[-1]["ports"]:
                side = "client"
            else:
                raise Ambiguous("frame %s: certificates on ports %s" % (frame(row), ports))
            hs[-1][side] += row["tls.handshake.certificate"]
        elif "11" in types:
            raise Ambiguous("frame %s: certificates before a ClientHello" % frame(row))
        # SMTP: commands in the clear, by stream; MAIL and RCPT parameters are FROM:<a>, TO:<a>
        if row["smtp.req.command"]:
            s = smtp.setdefault(stream, {"ports": ports, "helo": set(), "from": [], "to": []})
            cmds = row["smtp.req.command"]
            params = row["smtp.req.parameter"]
            if len(cmds) > 1 and len(cmds) != len(params):
                raise Ambiguous("frame %s: %d SMTP commands, %d parameters" % (
                    frame(row), len(cmds), len(params)))
            for c, p in zip(cmds, params or [""]):
                c = c.upper()
                if c in ("HELO", "EHLO"):
                    s["helo"].add((c, p))
                elif c == "MAIL":
                    s["from"].append(smtp_addr(p, "FROM"))
                elif c == "RCPT":
                    s["to"].append(smtp_addr(p, "TO"))
    for hss in tls.values():
        for h in hss:
            certs = {side: [bytes.fromhex(c.replace(":", "")) for c in h[side]]
                     for side in ("server", "client")}
            got["tls"].append((h["ports"], h["sni"], h["ja3"], h["ja3s"]) + tuple(
                tuple(getattr(hashlib, alg)(c).hexdigest() for c in certs[side])
                for side in ("server", "client") for alg in ("sha1", "sha256")))
    for s in smtp.values():
        got["smtp"].append((s["ports"], tuple(sorted(s["helo"])), tuple(sorted(s["from"])),
                            tuple(sorted(s["to"]))))
    return got


def ours(records, have):
    got = collections.defaultdict(list)
    smtp = {}
    for r in records:
        f = r["flow"]
        ports = (str(f.get("src_port", "")), str(f.get("dest_port", "")))
        if r["type"] == "http" and "method" in r["http"]:
            h = r["http"]
            got["http"].append((ports, h.get("host", ""), h.get("uri", ""),
                                h.get("user_agent", "")))
        elif r["type"] == "dns":
            for q in r["dns"].get("queries", []):
                got["dns"].append((ports, q["name"], "response" if r["dns"]["qr"] else "query"))
        elif r["type"] == "tls":
            t = r["tls"]
            got["tls"].append((ports, t.get("sni", ""),
                               t.get("ja3", "") if "tls.handshake.ja3" in have else None,
                               t.get("ja3s", "") if "tls.handshake.ja3s" in have else None) +
                              tuple(tuple(c.get(alg, "") for c in t.get(side, []))
                                    for side in ("server_certs", "client_certs")
                                    for alg in ("sha1", "sha256")))
        elif r["type"] == "smtp":
            m = r["smtp"]
            s = smtp.setdefault(f["id"], {"ports": ports, "helo": set(), "from": [], "to": []})
            if "helo" in m:
                s["helo"].add((m.get("helo_command", "").upper(), m["helo"]))
            if "mail_from" in m:
                s["from"].append(m["mail_from"])
            s["to"] += m.get("rcpt_to", [])
    for s in smtp.values():
        got["smtp"].append((s["ports"], tuple(sorted(s["helo"])), tuple(sorted(s["from"])),
                            tuple(sorted(s["to"]))))
    return got


# the names of the members of each kind's tuples, for the diff
NAMES = {
    "http": ("ports", "http.host", "http.request.uri", "http.user_agent"),
    "dns": ("ports", "dns.qry.name", "qr"),
    "tls": ("ports", "sni", "ja3", "ja3s", "server_certs.sha1", "server_certs.sha256",
            "client_certs.sha1", "client_certs.sha256"),
    "smtp": ("ports", "helo", "mail_from", "rcpt_to"),
}


def show(what, v):
    return " ".join("%s=%s" % (n, "->".join(x) if n == "ports" else
                               list(x) if isinstance(x, tuple) else repr(x))
                    for n, x in zip(NAMES[what], v))


def diff(what, cap, mine, other):
    """Prints what only one side has; a transaction of the same flow on both sides (one each) is
    shown as the fields where they differ."""
    print("net_check: antibody and tshark differ on %s in %s" % (what, cap))
    a, b = list((mine - other).elements()), list((other - mine).elements())
    for x in list(a):
        same = [y for y in b if y[0] == x[0]]
        if len(same) == 1 and len([z for z in a if z[0] == x[0]]) == 1:
            y = same[0]
            print("  flow %s:" % "->".join(x[0]))
            for n, u, v in zip(NAMES[what], x, y):
                if u != v:
                    print("    %s: antibody %s, tshark %s" % (n, u, v))
            a.remove(x)
            b.remove(y)
    for x in sorted(a, key=repr):
        print("  only antibody:", show(what, x))
    for y in sorted(b, key=repr):
        print("  only tshark:  ", show(what, y))


def main():
    jsonl, caps = sys.argv[1], sys.argv[2:]
    have = known_fields()
    fields = []
    for f in FIELDS:
        if f in have:
            fields.append(f)
        elif f in OPTIONAL:
            print("net_check: note: this tshark has no %s: not compared" % f)
        else:
            sys.exit("net_check: this tshark has no field %s" % f)
    by_path = collections.defaultdict(list)
    for line in open(jsonl):
        r = json.loads(line)
        if r.get("event") == "flow":
            by_path[os.path.realpath(r["path"])].append(r)
    checked = [c for c in caps if os.path.basename(c) not in EXCLUDED]
    bad, counts = 0, collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        # tshark takes ~0.4 s to start: the captures' runs side by side
        results = pool.map(lambda c: theirs(c, fields), checked)
        for cap, b in zip(checked, results):
            if isinstance(b, str):
                bad += 1
                print("net_check:", b)
                continue
            a = ours(by_path.get(os.path.realpath(cap), []), have)
            for what in ("http", "dns", "tls", "smtp"):
                x, y = collections.Counter(a[what]), collections.Counter(b[what])
                counts[what] += sum(x.values())
                if x != y:
                    bad += 1
                    diff(what, cap, x, y)
    if bad:
        sys.exit(1)
    if not sum(counts.values()):
        sys.exit("net_check: no value in any capture: nothing was compared")
    excl = [os.path.basename(c) for c in caps if os.path.basename(c) in EXCLUDED]
    print("ok net_check: %d captures agree with tshark (%s)%s" % (
        len(checked), ", ".join("%s %d" % kv for kv in sorted(counts.items())),
        "; excluded: " + ", ".join("%s (%s)" % (e, EXCLUDED[e]) for e in excl) if excl else ""))


if __name__ == "__main__":
    main()
