// Flow control of one watch stream: the stream pauses its source while the socket does not
// drain and resumes it when it does, so a backlog goes out at the reader's pace. A reader whose
// socket stays full for `stallMs` has stopped reading: the stream ends it as a slow consumer.
import type { WatchHandle } from './node-service.js';

export class WatchFlow {
  private paused = false;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: () => WatchHandle | undefined,
    private readonly stallMs: number,
    private readonly onStall: () => void,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** The socket is full: stop the source, and give the reader `stallMs` to take something. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source()?.pause?.();
    this.stallTimer = setTimeout(this.onStall, this.stallMs);
    this.stallTimer.unref();
  }

  /** The socket drained: the source may go on. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    clearTimeout(this.stallTimer);
    this.source()?.resume?.();
  }

  stop(): void {
    clearTimeout(this.stallTimer);
  }
}
