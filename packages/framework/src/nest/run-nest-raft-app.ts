import type { INestApplicationContext, NestApplicationOptions, Type } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { FlagError, parseHostPort, parseServerFlags, SHARED_FLAGS_HELP } from '../server/flags.js';
import { ServerStartError } from '../server/server-error.js';
import { useParsedFlags } from './node-flags.js';
import { RaftNestLogger } from './raft-nest-logger.js';

export interface NestRaftAppOptions {
  /** The program's name, for --help and errors. */
  name: string;
  /** Default process.argv.slice(2). */
  argv?: string[];
  /** The app's own flags, next to the shared ones and --http; read them with @Inject(RAFT_APP_FLAGS). */
  appFlags?: Record<string, { type: 'string' | 'boolean' }>;
  /** Extra --help text for the app's own flags. */
  usage?: string;
  /** An HTTP adapter (default: Nest's, which needs @nestjs/platform-express installed). */
  adapter?: AbstractHttpAdapter;
  /** Passed to NestFactory (the logger defaults to RaftNestLogger at --log-level). */
  nestOptions?: NestApplicationOptions;
}

const APP_HELP = `  --http HOST:PORT            the Nest application's own HTTP port (optional; without it the
                              app runs no HTTP server of its own)`;

/**
 * The whole main() of a Nest application that runs a raftkit node (RaftModule.forRoot() with no
 * `node`): parses the shared flags, `--http` and the app's own flags, creates the application
 * with one JSON logger for Nest and raftkit, listens on --http if given, and closes gracefully on
 * SIGTERM/SIGINT. Two ports, on purpose: --listen is the node's (peers, the HTTP API, the watch),
 * --http the application's own routes. A bad command line or a failed start prints one line and
 * exits 2, as runRaftServer does. Resolves with the running application (undefined for --help).
 */
export async function runNestRaftApp(module: Type<unknown>, options: NestRaftAppOptions): Promise<INestApplicationContext | undefined> {
  const fail = (message: string): never => {
    process.stderr.write(`${options.name}: ${message}\n`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseServerFlags(options.argv ?? process.argv.slice(2), process.env, { http: { type: 'string' }, ...options.appFlags });
  } catch (e) {
    return fail((e as Error).message);
  }
  const { flags, rest } = parsed;
  if (flags.help) {
    process.stdout.write(
      `usage: ${options.name} --id N --listen HOST:PORT (--peers ... | --join HOST:PORT) --data-dir DIR [--http HOST:PORT]\n\n${SHARED_FLAGS_HELP}\n${APP_HELP}\n${options.usage ?? ''}`,
    );
    return undefined;
  }
  const { http, ...appFlags } = rest;
  let httpAt: { host: string; port: number } | undefined;
  try {
    if (typeof http === 'string') httpAt = parseHostPort(http, '--http');
  } catch (e) {
    return fail((e as Error).message);
  }
  useParsedFlags(flags, appFlags);
  const logger = options.nestOptions?.logger ?? new RaftNestLogger(flags.logLevel, { node: flags.id });
  const nestOptions: NestApplicationOptions = { abortOnError: false, ...options.nestOptions, logger };
  let app: INestApplicationContext;
  try {
    if (httpAt) {
      const web = options.adapter ? await NestFactory.create(module, options.adapter, nestOptions) : await NestFactory.create(module, nestOptions);
      await web.listen(httpAt.port, httpAt.host);
      app = web;
    } else {
      app = await NestFactory.createApplicationContext(module, nestOptions);
      await app.init();
    }
  } catch (e) {
    return fail(startFailure(e));
  }
  const say = new RaftNestLogger(flags.logLevel, { node: flags.id });
  const listen = `${flags.listen.host}:${flags.listen.port}`;
  say.log(
    httpAt
      ? `node ${flags.id} serves the raft peers, the raftkit HTTP API and the watch on ${listen}; the application's own routes on ${httpAt.host}:${httpAt.port}`
      : `node ${flags.id} serves the raft peers, the raftkit HTTP API and the watch on ${listen}; the application has no HTTP port of its own (no --http)`,
    'runNestRaftApp',
  );
  const stop = (signal: string) => {
    say.log(`stopping on ${signal}`, 'runNestRaftApp');
    app.close().then(
      () => process.exit(0),
      (e: Error) => fail(`stop failed: ${e.message}`),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return app;
}

/** One line for a failed start: known failures by their message, a missing HTTP driver with the fix. */
function startFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/No driver \(HTTP\)|platform-express/.test(message)) return `${message.split('\n')[0]} (install @nestjs/platform-express, or pass an adapter)`;
  // Errors with a code (flags, start, storage, raftkit) explain themselves; anything else is a bug: its stack helps.
  if (e instanceof FlagError || e instanceof ServerStartError || (e instanceof Error && typeof (e as { code?: unknown }).code === 'string')) return message.split('\n')[0]!;
  return e instanceof Error ? (e.stack ?? message) : message;
}
