import { constants, readFileSync } from 'node:fs';
import { access, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ServerStartError } from './server-error.js';

export interface DataDirLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process its parent has not reaped yet (a zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Makes sure the data dir exists and is a writable directory, and takes it for this process
 * (a LOCK file with our pid): two nodes on one data dir would corrupt each other. A lock left by
 * a dead process (kill -9) is taken over.
 */
export async function acquireDataDir(dir: string): Promise<DataDirLock> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new ServerStartError(`cannot create data dir ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const st = await stat(dir);
  if (!st.isDirectory()) throw new ServerStartError(`data dir ${dir} is not a directory`);
  try {
    await access(dir, constants.W_OK | constants.R_OK);
  } catch {
    throw new ServerStartError(`data dir ${dir} is not readable and writable`);
  }
  const lockFile = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return { release: () => rm(lockFile, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ServerStartError(`cannot lock data dir ${dir}: ${(e as Error).message}`);
      const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new ServerStartError(`data dir ${dir} is in use by process ${pid}`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new ServerStartError(`cannot lock data dir ${dir}`);
}
