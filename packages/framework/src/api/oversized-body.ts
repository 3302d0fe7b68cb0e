// After a 413 the rest of the body is still on its way: a client that writes its whole body
// before it reads (most do: fetch, curl after 100-continue, every simple client) would get a
// connection reset instead of the answer if the server closed the socket with that data unread.
// So the rest is read and thrown away, within bounds, and only then is the connection closed.
import type { IncomingMessage } from 'node:http';

/**
 * Reads and discards what is left of `req`'s body after its answer was sent, then ends the
 * connection gracefully. A client that sends more than `maxDiscardBytes`, or takes longer than
 * `timeoutMs`, has its connection cut instead.
 */
export function discardRestOfBody(req: IncomingMessage, maxDiscardBytes: number, timeoutMs: number): void {
  const socket = req.socket;
  if (req.complete || socket.destroyed) return;
  let discarded = 0;
  const cut = () => {
    cleanup();
    socket.destroy();
  };
  const timer = setTimeout(cut, timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxDiscardBytes) cut();
  };
  const onEnd = () => {
    cleanup();
    socket.end();
  };
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', cleanup);
  };
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', cleanup);
  req.resume();
}
