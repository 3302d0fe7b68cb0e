// A session in a URL: its JSON (without the recorded outcome) in base64url, after '#session='.
// The page reads it on load, so a link is a whole reproducible session.

import { SessionError, parseSession, type Session } from '@raftkit/framework/sim';
import { EmulatorError } from './errors.js';

export const URL_KEY = 'session';

export function encodeSessionParam(s: Session): string {
  const { expect: _ignored, ...plain } = s;
  void _ignored;
  const bytes = new TextEncoder().encode(JSON.stringify(plain));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeSessionParam(param: string): Session {
  try {
    const b64 = param.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return parseSession(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
  } catch (e) {
    if (e instanceof SessionError) throw new EmulatorError('bad_session', `the session in the URL: ${e.message}`);
    throw new EmulatorError('bad_session', `the session in the URL is not base64url JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reads a session file's text (the page's import, the tests). */
export function sessionFromJson(text: string): Session {
  try {
    return parseSession(JSON.parse(text));
  } catch (e) {
    if (e instanceof SessionError || e instanceof SyntaxError) throw new EmulatorError('bad_session', e.message);
    throw e;
  }
}
