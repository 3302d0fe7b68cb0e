// Live mode end to end: three raftkit-kv processes with --debug-tap and a token; Chromium opens
// /ui on one of them with the token as HTTP Basic password and sees every node (one leader), the
// history checksums agreeing, and the message flow of the writes made meanwhile
// (LIVE_SCREENSHOT=path keeps a screenshot, as docs/live.png was made).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium.js';

const require = createRequire(import.meta.url);
const kvBin = join(dirname(require.resolve('@raftkit/kv-demo/package.json')), 'bin', 'raftkit-kv.js');
const TOKEN = 'live-e2e-secret';
const WAIT = 20_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'raftkit-live-e2e-'));
const procs: ChildProcess[] = [];
const ports: number[] = [];
let browser: Browser;

before(async () => {
  for (let i = 0; i < 3; i++) ports.push(await freePort());
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  for (let i = 0; i < 3; i++) {
    const args = [
      kvBin,
      '--id',
      String(i + 1),
      '--listen',
      `127.0.0.1:${ports[i]}`,
      '--peers',
      peers,
      '--data-dir',
      join(dir, `n${i + 1}`),
      '--token',
      TOKEN,
      '--debug-tap',
      '--log-level',
      'error',
    ];
    procs.push(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function leaderOf(port: number): Promise<number> {
  for (let t = 0; t < 400; t++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/status`, { headers: auth });
      if (r.status === 200) {
        const s = (await r.json()) as { groups: Array<{ leader: number }> };
        if (s.groups[0]?.leader) return s.groups[0].leader;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader within 20 s');
}

describe('live mode in Chromium', { timeout: 120_000 }, () => {
  test('/ui shows the running cluster, its checksums and its message flow', async () => {
    const leader = await leaderOf(ports[0]!);
    const put = (k: string) =>
      fetch(`http://127.0.0.1:${ports[leader - 1]}/v1/groups/kv/commands/put`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ key: k, value: 'v' }),
      });
    const ctx = await browser.newContext({ httpCredentials: { username: 'operator', password: TOKEN }, viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${ports[0]}/ui`);
    assert.match(page.url(), /\/ui\/$/);
    await page.getByTestId('node-3').waitFor({ timeout: WAIT });
    await page.locator(`.node[data-role="leader"]`).first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.node').count(), 3);
    assert.equal(await page.locator('.node[data-role="leader"]').getAttribute('data-testid'), `node-${leader}`);
    for (let k = 0; k < 5; k++) assert.equal((await put(`k${k}`)).status, 200);
    // Appends drawn from the tap, and all three checksum rows agreeing at the same index.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="flow-svg"]')?.getAttribute('data-shown') ?? 0) > 0, undefined, { timeout: WAIT });
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid^="checksum-"]')];
        return rows.length === 3 && rows.every((r) => /agrees with/.test(r.textContent ?? '') && Number(r.children[1]?.textContent) >= 6);
      },
      undefined,
      { timeout: WAIT },
    );
    assert.ok((await page.locator('[data-testid="flow-svg"] g[data-type="Append"]').count()) > 0);
    assert.match((await page.getByTestId('live-status').textContent()) ?? '', /tap on · node 1/);
    assert.deepEqual(errors, []);
    if (process.env.LIVE_SCREENSHOT) await page.screenshot({ path: process.env.LIVE_SCREENSHOT, fullPage: true });
    await ctx.close();

    // Without the token the page is refused: the browser is asked for it and has none to give.
    const anon = await browser.newPage();
    await assert.rejects(anon.goto(`http://127.0.0.1:${ports[0]}/ui/`), /ERR_INVALID_AUTH_CREDENTIALS/);
    await anon.close();
  });
});
