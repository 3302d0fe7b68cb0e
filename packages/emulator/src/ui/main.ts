// The page's entry point (bundled by esbuild into emulator.js): loads the session in the URL if
// there is one, else a fresh seed-1 session, and starts the controller.

import { App, sessionFromLocation } from './app.js';

function boot(): void {
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
