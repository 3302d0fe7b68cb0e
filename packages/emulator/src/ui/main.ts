// The page's entry point (bundled by esbuild into emulator.js): at /ui (served by a raftkit node)
// the live view; elsewhere the emulator, with the session in the URL if there is one, else a
// fresh seed-1 session.

import { App, sessionFromLocation } from './app.js';
import { LiveApp } from './live-app.js';

function boot(): void {
  // A raftkit node serves this page at /ui: live mode, attached to its cluster.
  if (location.pathname.startsWith('/ui')) {
    (window as unknown as { raftkitLive: LiveApp }).raftkitLive = new LiveApp();
    return;
  }
  let session;
  let problem: string | undefined;
  try {
    session = sessionFromLocation();
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  const app = new App(session);
  if (problem) {
    const el = document.getElementById('notice')!;
    el.textContent = problem;
    el.className = 'error';
  }
  (window as unknown as { raftkitEmulator: App }).raftkitEmulator = app;
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
