// Bundles the page's script with esbuild: the compiled UI and, through @raftkit/framework's
// package exports, the very core and simulator modules the CLI runs. platform 'browser' makes
// esbuild refuse any Node built-in, so a core or simulator module that grew one fails here.

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** The compiled entry point (dist/src/ui/main.js), beside this file's dist/src/server/. */
const ENTRY = fileURLToPath(new URL('../ui/main.js', import.meta.url));

export async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}
