// A streaming HTTP POST for the gateway's streaming routes: the body written piece by piece, the
// answer read line by line as it arrives (node:http, so both directions stream at once).
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface HttpStream {
  req: ClientRequest;
  /** Resolves the answer's status and headers when they arrive. */
  response: Promise<IncomingMessage>;
  write(text: string): void;
  end(text?: string): void;
  /** The next line of the answer (waits up to timeoutMs); undefined when the answer ended. */
  nextLine(timeoutMs?: number): Promise<string | undefined>;
  /** Resolves when the answer has ended. */
  ended: Promise<void>;
  /** Drops the connection. */
  abort(): void;
}

export function openHttpStream(url: string, path: string, headers: Record<string, string> = {}): HttpStream {
  const req = request(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
  const lines: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let done = false;
  let partial = '';
  let endedResolve: () => void = () => {};
  const ended = new Promise<void>((r) => (endedResolve = r));
  const deliver = (line: string | undefined) => {
    const w = waiters.shift();
    if (w) w(line);
    else if (line !== undefined) lines.push(line);
  };
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      resolve(res);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          deliver(partial.slice(0, nl));
          partial = partial.slice(nl + 1);
        }
      });
      const finish = () => {
        if (done) return;
        done = true;
        if (partial) deliver(partial);
        while (waiters.length > 0) waiters.shift()!(undefined);
        endedResolve();
      };
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('error', reject);
  });
  response.catch(() => {});
  req.flushHeaders();
  return {
    req,
    response,
    ended,
    write: (text) => void req.write(text),
    end: (text) => void req.end(text),
    nextLine(timeoutMs = 5_000) {
      if (lines.length > 0) return Promise.resolve(lines.shift());
      if (done) return Promise.resolve(undefined);
      return new Promise((resolve, reject) => {
        const waiter = (line: string | undefined) => {
          clearTimeout(t);
          resolve(line);
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no line from ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    abort: () => req.destroy(),
  };
}
