import type { ResolvedOptions } from './client-options.js';
import { Closer } from './closer.js';
import { LeaderRouter } from './leader-router.js';
import { closedError, RequestRunner } from './request-runner.js';
import { SessionPool } from './session-pool.js';
import { WatchStream, type WatchOptions } from './watch-stream.js';

/**
 * What every group handle of one RaftClient shares: options, the leader cache, the session lanes,
 * the retry loop, the open watches and the close signal.
 */
export class ClientCore {
  readonly router: LeaderRouter;
  readonly sessions: SessionPool;
  readonly runner: RequestRunner;
  private readonly closer = new Closer();
  private readonly watches = new Set<WatchStream<unknown>>();

  constructor(readonly options: ResolvedOptions) {
    this.router = new LeaderRouter(options.endpoints, Math.max(1_000, options.backoff.maxMs));
    this.sessions = new SessionPool(options.clientId);
    this.runner = new RequestRunner(options, this.router, this.closer);
  }

  get closed(): boolean {
    return this.closer.closed;
  }

  openWatch<E>(group: string, opts: WatchOptions): WatchStream<E> {
    if (this.closed) throw closedError();
    const w: WatchStream<E> = new WatchStream<E>(group, this.options, this.router, this.closer, opts, () => this.watches.delete(w as WatchStream<unknown>));
    this.watches.add(w as WatchStream<unknown>);
    return w;
  }

  /** Fails pending and later calls with `closed` and closes every watch socket. */
  close(): void {
    this.closer.close();
    for (const w of [...this.watches]) w.close();
    this.options.sender.close();
  }
}
