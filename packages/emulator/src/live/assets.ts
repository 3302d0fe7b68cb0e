// The page's three files (HTML, stylesheet, bundled script), built once per process. The
// emulator's own server serves them at /, and a raftkit node serves them at /ui (live mode)
// by importing this module as '@raftkit/emulator/live'.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundlePage } from '../server/bundle.js';

/** The static files, in the package's page/ folder (beside dist/). */
const PAGE_DIR = fileURLToPath(new URL('../../../page/', import.meta.url));

export interface PageAssets {
  html: string;
  css: string;
  js: string;
}

let built: Promise<PageAssets> | undefined;

export function livePageAssets(): Promise<PageAssets> {
  built ??= Promise.all([readFile(PAGE_DIR + 'index.html', 'utf8'), readFile(PAGE_DIR + 'emulator.css', 'utf8'), bundlePage()]).then(([html, css, js]) => ({ html, css, js }));
  built.catch(() => (built = undefined));
  return built;
}
