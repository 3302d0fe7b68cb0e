// Reading the session's input with node:readline. Interactive (a terminal): prompts, history
// kept in a file, Ctrl-C that drops a half-typed statement (twice on an empty line: exit).
// Otherwise (piped input): lines only, no prompts, no history.
import { createInterface, type Interface } from 'node:readline';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history-file.js';
import type { LineOutcome, ShellSession } from './shell-session.js';

export interface LoopStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Feeds every line to the session until the input ends or a line ends the session. */
export async function runLineLoop(session: ShellSession, streams: LoopStreams, historyFile: string | undefined): Promise<LineOutcome> {
  const rl = session.interactive ? interactiveReader(session, streams, historyFile) : createInterface({ input: streams.input, terminal: false, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    if (session.interactive) rl.prompt();
    for await (const line of rl) {
      const outcome = await session.handleLine(line, ++lineNumber);
      if (outcome.kind === 'exit') return outcome;
      if (session.interactive) {
        rl.setPrompt(session.prompt());
        rl.prompt();
      }
    }
    return await session.endOfInput();
  } finally {
    rl.close();
  }
}

function interactiveReader(session: ShellSession, streams: LoopStreams, historyFile: string | undefined): Interface {
  const history = historyFile === undefined ? [] : loadHistory(historyFile);
  const rl = createInterface({
    input: streams.input,
    output: streams.output,
    terminal: true,
    prompt: session.prompt(),
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
  });
  if (historyFile !== undefined) rl.on('history', (entries: string[]) => saveHistory(historyFile, entries));
  let interruptedOnEmptyLine = false;
  rl.on('line', () => (interruptedOnEmptyLine = false));
  rl.on('SIGINT', () => {
    const typing = rl.line !== '' || session.discardPending();
    if (!typing && interruptedOnEmptyLine) {
      streams.output.write('\n');
      rl.close();
      return;
    }
    interruptedOnEmptyLine = !typing;
    streams.output.write(typing ? '^C\n' : '\n(To exit, press Ctrl-C again or Ctrl-D, or type .quit)\n');
    rl.write(null, { ctrl: true, name: 'u' });
    rl.setPrompt(session.prompt());
    rl.prompt();
  });
  return rl;
}
