/* http.h: the HTTP/1.0 and 1.1 parser of the network pipeline (an ab_app_proto of net.h), both
 * directions of one TCP flow.
 *
 * detect: by content only: the client's first bytes are a request line (a method of 3..16 of
 * A-Z, then a space), the server's start with "HTTP/1.".
 *
 * Requests (client) and responses (server) are paired in order; up to HTTP_MAX_PIPELINE requests
 * may wait for their responses. Header lines are bounded by lim->max_line, header fields of one
 * message (trailers included) by lim->max_headers; obs-fold continuation lines extend the value
 * they continue (one of Content-Length or Transfer-Encoding gives up the direction: ambiguous
 * framing). Bodies: Transfer-Encoding chunked (extensions ignored, trailers read and dropped),
 * else Content-Length, else (responses only) until the server closes; no body for HEAD, 1xx, 204,
 * 304. 1xx responses other than 101 are interim (100-continue) and skipped. Content-Encoding
 * gzip, x-gzip and deflate (zlib or raw) are decoded with zlib; decoding stops (and the record
 * says "decompression ratio limit") once more than lim->max_body bytes came out and more than
 * HTTP_DECODE_RATIO times the compressed bytes read so far; a corrupt or cut stream keeps what
 * decoded and says so.
 *
 * Each non-empty body is an out->object named {"<METHOD> <target>" (target cut to
 * HTTP_NAME_TARGET bytes), "request-body" | "response-body"} ({"(no request)", ...} for a
 * response whose request was not seen), with its decoded bytes up to lim->max_body (truncated
 * when more came) and media_type from Content-Type (lower case, no parameters).
 *
 * Observables: Host (port stripped, lower case) as "domain" or "ip" where "http.host" (from the
 * target's authority when there is no Host); the URL ("http://" Host target, or an absolute-form
 * target as sent) as "url" where "http.url"; Referer as "url" where "http.referer"; Location of a
 * 3xx response as "url" where "http.location" (a path made absolute with the Host).
 *
 * Records: one per transaction, when its request and response have both ended, or when the flow
 * closes or a direction gives up (a request without a response, a response without a request).
 * The object has these keys, in this order, each left out when there is nothing to say
 * (tshark's field in brackets):
 *   "type": "http"
 *   "method" (http.request.method), "host" (http.host, the Host header as sent), "uri"
 *   (http.request.uri, the target as sent), "url" (http.request.full_uri), "version"
 *   (http.request.version), "user_agent" (http.user_agent), "referer" (http.referer),
 *   "request_content_type", "request_content_encoding", "request_transfer_encoding",
 *   "request_body_len" (decoded bytes; with a request), "request_body_sha256" (lower-case hex of
 *   all decoded bytes, even past max_body; when the length is not 0), "request_body_truncated"
 *   (true: the object kept only max_body bytes), "request_body_incomplete" (true: a gap or the
 *   end of the flow cut the body), "request_decode_error" (text),
 *   "status" (http.response.code, a number), "reason" (http.response.phrase), "response_version"
 *   (http.response.version), "server" (http.server), "content_type" (http.content_type),
 *   "content_encoding" (http.content_encoding), "transfer_encoding" (http.transfer_encoding),
 *   "location" (http.location), "response_body_len", "response_body_sha256",
 *   "response_body_truncated", "response_body_incomplete", "response_decode_error": as for the
 *   request;
 *   "tunnel": true (a 2xx to CONNECT or a 101: the rest of the flow is not HTTP);
 *   "anomalies": [names] of "obs_fold", "cl_and_te", "duplicate_content_length",
 *   "duplicate_host", "missing_host", "space_in_uri", "unsupported_content_encoding".
 * Header values are kept up to HTTP_MAX_FIELD bytes (the target up to lim->max_line), cut at a
 * NUL byte; strings that are not UTF-8 get "<key>_b64" as report/json.h does.
 *
 * data/gap return -1 (the caller stops feeding) once both directions gave up, once
 * lim->max_tx records were reported, and after a tunnel started; the first two say why through
 * out->error, a tunnel is no error (its record says "tunnel"). A direction gives up on a
 * malformed start line or chunk line, a line or header count past its limit, a request with a
 * Transfer-Encoding that does not end in chunked, a bad Content-Length, too many pipelined
 * requests, and a gap it cannot skip: a gap inside a body whose length is known (Content-Length,
 * or inside one chunk) ends the body there as incomplete and skips the rest; a gap in a body
 * that lasts until close ends it and ignores the rest of the direction; any other gap stops the
 * direction. */
#ifndef AB_NET_HTTP_H
#define AB_NET_HTTP_H

#include "net/net.h"

#define HTTP_MAX_PIPELINE 64   /* requests waiting for their responses */
#define HTTP_NAME_TARGET  200  /* bytes of the target in an object's name */
#define HTTP_MAX_FIELD    4096 /* bytes of one header value kept for the record */
#define HTTP_DECODE_RATIO 100  /* decoded : compressed bytes past max_body (bomb bound) */
#define HTTP_MAX_INTERIM  16   /* 1xx responses before the final one */

extern const ab_app_proto ab_app_http;

#endif
