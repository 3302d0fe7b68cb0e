// What every formatter here returns: a complete HTTP answer for the server to write as is, so the
// wiring needs no knowledge of rqlite's content types or of which answers carry a body.

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** rqlite's JSON answers (results, /status, /nodes). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** rqlite's error and /readyz answers: Go's http.Error and text sniffing both produce this. */
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export function jsonReply(body: string, status = 200): HttpReply {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body };
}

/** Go's http.Error: the message plus a newline, as plain text, with nosniff. */
export function plainTextErrorReply(status: number, message: string): HttpReply {
  return { status, headers: { 'Content-Type': TEXT_CONTENT_TYPE, 'X-Content-Type-Options': 'nosniff' }, body: `${message}\n` };
}
