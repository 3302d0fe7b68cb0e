// Requests that Node's HTTP parser refuses before any route sees them (headers too large, an
// unparsable request, a request or header timeout, an Expect the server does not meet) are
// answered in the API's JSON error shape, as every other error, whenever the socket can still
// take an answer; Node's own answers are bare status lines without a body.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

interface ParserRefusal {
  status: number;
  error: string;
  message: string;
}

/** The answer to a parser error, by Node's error code (llhttp's HPE_* and Node's ERR_HTTP_*). */
export function parserRefusal(code: string | undefined): ParserRefusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'headers_too_large', message: 'the request head (request line and headers) is larger than the server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'request_timeout', message: 'the request did not arrive completely in time' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'payload_too_large', message: 'the chunk extensions of the request body are too large' };
    default:
      return { status: 400, error: 'bad_request', message: `the request could not be parsed as HTTP/1.1${code ? ` (${code})` : ''}` };
  }
}

function answer(refusal: ParserRefusal): string {
  const body = JSON.stringify({ error: refusal.error, message: refusal.message });
  return (
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
    'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Installs the JSON answers on `server`: its 'clientError' (parser errors and timeouts) and its
 * 'checkExpectation' (an Expect other than 100-continue: 417, which Node answers without a body).
 */
export function answerParserErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    socket.on('error', () => {});
    // A reset, or a socket that already sent (part of) an answer: nothing can be written.
    const sentSomething = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || sentSomething) {
      socket.destroy();
      return;
    }
    socket.end(answer(parserRefusal(err.code)));
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify({ error: 'expectation_failed', message: `this server meets no expectation but 100-continue, not ${JSON.stringify(req.headers.expect)}` });
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close', 'cache-control': 'no-store' });
    res.end(body);
  });
}
