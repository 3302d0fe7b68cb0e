// A Nest HTTP application (Nest's default Express adapter, chosen by NestFactory itself) whose
// handlers call RaftService: RaftkitErrors are answered with the API's status and JSON body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body, Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RaftModule, RaftNestLogger, RaftService } from '../../src/nest/index.js';
import type { Logger } from '../../src/common/logger.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';
import { GreetMachine } from './fixtures/greeter.js';

@Controller()
class GreetController {
  constructor(private readonly raft: RaftService) {}

  @Post('greet')
  async greet(@Body() body: unknown): Promise<unknown> {
    return (await this.raft.propose('hi', 'greet', body)).result;
  }

  @Post('elsewhere')
  async elsewhere(@Body() body: unknown): Promise<unknown> {
    return (await this.raft.propose('no-such-group', 'greet', body)).result;
  }

  @Get('boom')
  boom(): never {
    throw new Error('not a raftkit error');
  }
}

async function startApp(exceptionFilter: boolean): Promise<{ app: INestApplication; url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-nest-http-'));
  const [port] = await freePorts(1);
  const node: ServerFlags = {
    id: 1,
    listen: { host: '127.0.0.1', port: port! },
    peers: new Map([[1, `127.0.0.1:${port}`]]),
    join: undefined,
    dataDir: dir,
    token: undefined,
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
  };
  @Module({
    imports: [RaftModule.forRoot({ node, groups: [{ name: 'hi', type: 'greeter' }], host: { tickMs: 10 }, exceptionFilter }), RaftModule.forFeature([GreetMachine])],
    controllers: [GreetController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const raft = app.get(RaftService);
  await waitFor(() => raft.status().groups[0]?.role === 'leader', 10_000, 'the single node leads');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    app,
    url,
    stop: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('RaftkitErrors from a Nest handler get the API status and JSON body; other errors stay Nest 500s', async () => {
  const { url, stop } = await startApp(true);
  try {
    const ok = await post(`${url}/greet`, { name: 'nest' });
    assert.equal(ok.status, 201);
    assert.equal(await ok.text(), 'hello, nest');
    const bad = await post(`${url}/greet`, { name: 7 });
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as Record<string, unknown>;
    assert.equal(badBody['error'], 'bad_request');
    assert.equal(badBody['field'], 'name');
    assert.equal(typeof badBody['message'], 'string');
    const unknown = await post(`${url}/elsewhere`, { name: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as Record<string, unknown>)['error'], 'unknown_group');
    const boom = await fetch(`${url}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { statusCode: 500, message: 'Internal server error' });
  } finally {
    await stop();
  }
});

test('exceptionFilter: false leaves RaftkitErrors to Nest', async () => {
  const { url, stop } = await startApp(false);
  try {
    const bad = await post(`${url}/greet`, { name: 7 });
    assert.equal(bad.status, 500);
  } finally {
    await stop();
  }
});

test('RaftNestLogger writes Nest logs as raftkit structured records', () => {
  const lines: { level: string; fields: object; msg: string }[] = [];
  const sink = (level: string) => (fields: object, msg: string) => lines.push({ level, fields, msg });
  const logger: Logger = { debug: sink('debug'), info: sink('info'), warn: sink('warn'), error: sink('error'), child: () => logger };
  const nest = new RaftNestLogger(logger);
  nest.log('Mapped {/greet, POST} route', 'RouterExplorer');
  nest.warn('careful');
  nest.error('it broke', 'Error: it broke\n    at here', 'ExceptionsHandler');
  nest.error(new Error('thrown'));
  nest.verbose({ some: 'object' }, 'Ctx');
  assert.deepEqual(lines[0], { level: 'info', fields: { context: 'RouterExplorer' }, msg: 'Mapped {/greet, POST} route' });
  assert.deepEqual(lines[1], { level: 'warn', fields: {}, msg: 'careful' });
  assert.deepEqual(lines[2], { level: 'error', fields: { context: 'ExceptionsHandler', stack: 'Error: it broke\n    at here' }, msg: 'it broke' });
  assert.equal(lines[3]!.msg, 'thrown');
  assert.match(String((lines[3]!.fields as { stack?: string }).stack), /^Error: thrown/);
  assert.deepEqual(lines[4], { level: 'debug', fields: { context: 'Ctx', data: { some: 'object' } }, msg: '' });
});
