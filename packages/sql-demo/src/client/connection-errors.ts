// Which thrown fetch errors mean "this node did not get the request". Only those make a write
// safe to send to another node: after a reset mid-request the first node may have applied it,
// and sending it again would apply it twice. Reads are safe to repeat after any network error.

/** Errors raised before a single byte of the request reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** The system error code of a failed fetch (undici wraps it in `cause`, sometimes an AggregateError). */
export function networkErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) e = inner[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function wasNotSent(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code !== undefined && NOT_SENT.has(code);
}

export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** A short description for a message: "connection refused", or the error's own words. */
export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code) return code;
  return innermostMessage(error);
}

/** fetch says only "fetch failed"; the reason ("bad port", ...) is in its cause. */
function innermostMessage(error: unknown): string {
  let message = String(error);
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++, e = (e as { cause?: unknown }).cause) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string' && m !== '') message = m;
  }
  return message;
}
