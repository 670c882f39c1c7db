/* tls.h: the TLS handshake parser of the network pipeline (an ab_app_proto of net.h), both
 * directions of one TCP flow: what a passive observer can read before encryption starts.
 *
 * detect: by content only, from either side: a record header of type 22 (handshake), version
 * 0x0300..0x0304, a length of 4..TLS_MAX_RECORD, and a ClientHello (1) or ServerHello (2) as the
 * first message; or (to the server) an SSLv2-compatible ClientHello (a 2-byte header with the
 * top bit set, message type 1, version 0x0002..0x0304), whose record is skipped: it has no
 * extensions to fingerprint ("sslv2_hello" in the record).
 *
 * Record layer per direction: records of at most TLS_MAX_RECORD bytes (2^14 + 2048) of types
 * 20..24; anything else, or a record header that is not TLS, gives up the flow (out->error,
 * data returns -1). Handshake messages are reassembled across records; the ones read are kept
 * whole up to TLS_MAX_HELLO bytes (ClientHello, ServerHello) or lim->max_cert_size bytes
 * (Certificate: certificates complete within the kept bytes are read, "certs_cut" says the
 * rest were not); other messages are skipped without being kept. A direction stops (cleanly:
 * the rest is ignored) at its ChangeCipherSpec or first application_data record; in TLS 1.3
 * the server stops after its ServerHello (everything after it is encrypted) and a
 * ChangeCipherSpec (middlebox compatibility) does not stop the client, but after one only a
 * second ClientHello (after a HelloRetryRequest) is still read. A gap stops its direction.
 *
 * ClientHello: legacy version, cipher suites, extensions (server_name, ALPN, supported_groups,
 * ec_point_formats, signature_algorithms, supported_versions, session_ticket,
 * pre_shared_key); GREASE values (0x?a?a with equal bytes, RFC 8701) are left out of every
 * list and fingerprint. Lists keep at most TLS_MAX_LIST values (the rest is "lists_cut").
 *   JA3 (salesforce/ja3): "Version,Ciphers,Extensions,Groups,PointFormats", decimal, '-'
 *   joined, Version the legacy version; "ja3" is its MD5 (lower-case hex).
 *   JA4 (FoxIO, JA4 only): t + version (highest supported_versions, else legacy: 13 12 11 10
 *   s3 s2, 00 unknown) + d/i (server_name present) + cipher and extension counts (2 digits, at
 *   most 99; extensions counted with SNI and ALPN) + ALPN first/last character (00 when none;
 *   hex of the value when its first or last byte is not alphanumeric) _ SHA-256/12 of the
 *   sorted 4-hex ciphers _ SHA-256/12 of the sorted 4-hex extensions without SNI and ALPN,
 *   then "_" and the signature algorithms in order when there are any (000000000000 for an
 *   empty list).
 * ServerHello: legacy version, cipher, extensions (supported_versions, ALPN, pre_shared_key);
 *   JA3S "Version,Cipher,Extensions" (decimal, legacy version) and its MD5. A HelloRetryRequest
 *   (the RFC 8446 random) is noted and the next ServerHello read instead.
 * Certificate (TLS <= 1.2, either direction: from the client it is mutual TLS): every
 *   certificate's SHA-1 and SHA-256 are observed; up to TLS_MAX_CERTS per direction, of at most
 *   lim->max_cert_size bytes each, are read with OpenSSL
 *   (d2i_X509): subject and issuer (RFC 2253 one-line), serial (lower-case hex), validity (ISO
 *   8601 UTC), SHA-1 and SHA-256 of the DER, the subjectAltName DNS names and IP addresses (at
 *   most TLS_MAX_NAMES), the subject CN. A CertificateRequest sets client_cert_requested.
 *
 * Observables: server_name as "domain" where "tls.sni"; "ja3" and "ja4" where "tls.client";
 * "ja3s" where "tls.server"; each certificate's "cert-sha1" and "cert-sha256" where "tls.cert"
 * (sent by the server) or "tls.client_cert"; its SAN DNS names and its CN (when they are host
 * names; a leading "*." left out) as "domain", SAN IP addresses as "ip", where "tls.cert.name".
 *
 * Record: one per flow, when both directions stopped (or at close, a fatal error or a gap),
 * when a hello was read (or found malformed, or was SSLv2). In TLS 1.3 the certificates, the
 * CertificateRequest and the server's ALPN answer are encrypted: they are not in it. Keys in this
 * order, each left out when there is nothing to say: "type": "tls" "version" (negotiated:
 * "TLS 1.3", "TLS 1.2", "TLS 1.1", "TLS 1.0", "SSL 3.0", or "0x%04x"), "client_version" (the
 * ClientHello's legacy version, the same names), "client_versions" (supported_versions offered,
 * names), "sni", "alpn" [offered], "alpn_selected", "cipher" (number, the JA3S value),
 * "cipher_name" (IANA name, for the 35 common suites tls.c names), "ja3", "ja3_string", "ja3s",
 * "ja3s_string", "ja4", "client_cert_requested" (bool), "server_certs" [{"subject", "issuer",
 * "serial", "not_before", "not_after", "sha1", "sha256", "cn", "names" [...], "self_signed" (bool:
 * subject == issuer), "error" (OpenSSL could not read it: only "sha1", "sha256" and "error"
 * then)}], "client_certs" [same], "certs_cut" (bool), "resumed" (bool: an abbreviated TLS <= 1.2
 * handshake, or a TLS 1.3 pre_shared_key accepted), "hello_retry" (bool), "sslv2_hello" (bool),
 * "lists_cut" (bool), "alert" (the description number of the first plaintext alert), "incomplete"
 * (bool: the flow closed or a gap came before both directions were encrypted), "malformed"
 * ["client_hello", "server_hello", "certificate"]. Strings that are not UTF-8 get "<key>_b64"
 *   (report/json.h).
 *
 * Speed: bytes of a stopped direction are ignored at once; record bodies are never copied;
 * a handshake message whole in one record is read in place, one split across records is copied
 * into a per-direction buffer (one allocation, grown to its bound); messages not read are
 * skipped, never kept. */
#ifndef AB_NET_TLS_H
#define AB_NET_TLS_H

#include "net/net.h"

#define TLS_MAX_RECORD (16384 + 2048) /* record body bytes (RFC 5246 6.2.3) */
#define TLS_MAX_HELLO  65536          /* bytes of a ClientHello/ServerHello kept */
#define TLS_MAX_LIST   512            /* values of one hello list kept (ciphers, extensions...) */
#define TLS_MAX_ALPN   16             /* ALPN protocol names kept */
#define TLS_MAX_SNI    255            /* bytes of server_name kept */
#define TLS_MAX_CERTS  10             /* certificates read from one Certificate message */
#define TLS_MAX_NAMES  64             /* SAN names kept per certificate */

extern const ab_app_proto ab_app_tls;

/* For a parser that carries TLS after an upgrade (SMTP STARTTLS): a new state as
 * ab_app_tls.new_state, fed through ab_app_tls.data/gap/close/free_state with the carrier's flow
 * ref (its app says what the record is part of, e.g. "smtp+tls"). */

#endif
