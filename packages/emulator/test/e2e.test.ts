// The page end to end in headless Chromium: load it, step, run to a "leader elected" breakpoint,
// partition the leader and see a new term, travel back in time, export the session and replay it
// in the simulator's CLI (same trace hash), import the file into a fresh page and reload it from
// its link (same outcome), and take a screenshot
// (EMULATOR_SCREENSHOT=path keeps it, as the README's was made).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startEmulatorServer, type EmulatorServer } from '../src/server/server.js';
import { launchChromium } from './support/chromium.js';

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@raftkit/framework/package.json')), 'dist', 'src', 'sim', 'cli.js');
const WAIT = 20_000;

let server: EmulatorServer;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'raftkit-emulator-e2e-'));

before(async () => {
  server = await startEmulatorServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const position = async (page: Page): Promise<number> => Number(/step (\d+) of/.exec((await page.getByTestId('position').textContent()) ?? '')![1]);
const leaders = (page: Page) => page.locator('.node[data-role="leader"]');

async function addBreakpoint(page: Page, kind: string, n?: number): Promise<void> {
  await page.getByTestId('bp-kind').selectOption(kind);
  if (n !== undefined) await page.getByTestId('bp-n').fill(String(n));
  await page.getByTestId('bp-add').click();
}

async function runToBreakpoint(page: Page, expect: RegExp): Promise<string> {
  await page.getByTestId('run-to-break').click();
  await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('notice')?.textContent ?? ''), expect.source, { timeout: WAIT });
  return (await page.locator('#notice').textContent()) ?? '';
}

describe('the emulator page in Chromium', { timeout: 180_000 }, () => {
  test('step, breakpoints, partition, time travel, export and replay in the CLI, link, screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1150 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url);
    await page.getByTestId('node-3').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.node').count(), 3);
    assert.equal(await position(page), 0);

    for (let i = 0; i < 3; i++) await page.getByTestId('step').click();
    assert.equal(await position(page), 3);
    assert.ok(((await page.getByTestId('event').textContent()) ?? '').length > 0);

    await addBreakpoint(page, 'leader-elected');
    const hit = await runToBreakpoint(page, /stopped: n\d became leader of term \d+/);
    const electedAt = await position(page);
    assert.equal(await leaders(page).count(), 1);
    const leader = leaders(page).first();
    const oldTerm = Number(await leader.getAttribute('data-term'));
    const leaderId = Number(/n(\d) became leader/.exec(hit)![1]);
    assert.equal(await leader.getAttribute('data-testid'), `node-${leaderId}`);

    await page.getByTestId('isolate-leader').click();
    await addBreakpoint(page, 'term-above', oldTerm);
    await runToBreakpoint(page, new RegExp(`stopped: n\\d reached term ${oldTerm + 1}`));
    await runToBreakpoint(page, new RegExp(`stopped: n\\d became leader of term ${oldTerm + 1}`));
    const newLeader = page.locator(`.node[data-role="leader"][data-term="${oldTerm + 1}"]`);
    assert.equal(await newLeader.count(), 1);
    assert.notEqual(await newLeader.getAttribute('data-testid'), `node-${leaderId}`);
    const end = await position(page);
    assert.ok((await page.getByTestId('flow-svg').getAttribute('data-shown')) !== '0');

    // Back in time, to before the first election: no leader, and the slider follows.
    await page.getByTestId('goto').fill(String(electedAt - 1));
    await page.getByTestId('goto-btn').click();
    assert.equal(await position(page), electedAt - 1);
    assert.equal(await leaders(page).count(), 0);
    assert.equal(await page.getByTestId('slider').inputValue(), String(electedAt - 1));
    // And forward again to where we were: the same new leader.
    await page.getByTestId('goto').fill(String(end));
    await page.getByTestId('goto-btn').click();
    assert.equal(await page.locator(`.node[data-role="leader"][data-term="${oldTerm + 1}"]`).count(), 1);

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.getByTestId('export').click()]);
    const file = join(dir, 'session.json');
    await download.saveAs(file);
    const session = JSON.parse(readFileSync(file, 'utf8')) as { steps: number; expect: { traceHash: string }; actions: unknown[] };
    assert.equal(session.steps, end);
    assert.equal(session.actions.length, 1);
    const r = spawnSync(process.execPath, [cli, '--session', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`trace ${session.expect.traceHash} `));
    assert.match(r.stdout, /matches the recorded trace hash and checksums/);
    assert.match((await page.locator('#notice').textContent()) ?? '', new RegExp(`trace ${session.expect.traceHash}`));

    // And back: the file imports into a fresh page, at the same step with the same trace hash.
    const imported = await browser.newPage({ viewport: { width: 1500, height: 1150 } });
    await imported.goto(server.url);
    await imported.getByTestId('node-3').waitFor({ timeout: WAIT });
    await imported.locator('[data-field="import-file"]').setInputFiles(file);
    await imported.waitForFunction((n) => document.querySelector('[data-testid="position"]')?.textContent?.startsWith(`step ${n} of`), end, { timeout: WAIT });
    const [again2] = await Promise.all([imported.waitForEvent('download', { timeout: WAIT }), imported.getByTestId('export').click()]);
    const reExported = join(dir, 'again.json');
    await again2.saveAs(reExported);
    assert.deepEqual((JSON.parse(readFileSync(reExported, 'utf8')) as { expect: unknown }).expect, (session as { expect: unknown }).expect);
    await imported.close();

    // The link holds the session: a fresh page opens at the same step with the same state.
    await page.getByTestId('link').click();
    const link = page.url();
    assert.match(link, /#session=/);
    const again = await browser.newPage({ viewport: { width: 1500, height: 1150 } });
    await again.goto(link);
    await again.getByTestId('node-3').waitFor({ timeout: WAIT });
    assert.equal(await position(again), end);
    assert.equal(await again.locator(`.node[data-role="leader"][data-term="${oldTerm + 1}"]`).count(), 1);
    await again.close();

    const shot = process.env.EMULATOR_SCREENSHOT ?? join(dir, 'screenshot.png');
    const png = await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.deepEqual(errors, []);
    await page.close();
  });
});
