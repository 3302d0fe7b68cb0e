// Debian's Chromium for the end-to-end test, driven by playwright-core (which downloads no
// browser of its own): found at /usr/bin/chromium, installed with apt-get when missing and the
// test runs as root, or a clear failure saying how to get it.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'ignore', env, timeout: 600_000 });
    } catch {
      try {
        execFileSync('sh', ['-c', 'apt-get update && apt-get install -y --no-install-recommends chromium'], { stdio: 'ignore', env, timeout: 900_000 });
      } catch {
        // Reported below.
      }
    }
    if (existsSync(CHROMIUM)) return CHROMIUM;
  }
  throw new Error(`Chromium is not at ${CHROMIUM} and could not be installed: run \`apt-get install -y chromium\` as root`);
}

/**
 * Headless Chromium as root in a closed network: no sandbox (root), and none of the background
 * connections (updates, sync, field trials) that would fail and slow it down.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
