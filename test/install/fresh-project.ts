// A fresh npm project outside the repository, built from the packed tarballs the way a user
// builds one from the registry: workspace links and hoisted modules cannot help it.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from './run-command.js';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const STARTER = join(REPO, 'examples', 'inventory');
const NEST_CHECK = join(REPO, 'test', 'install', 'fixtures', 'nest-check.ts');
/** The test's own sources, in a folder of their own so no starter file name can clash with them. */
export const CHECKS_DIR = 'install-check';
const INSTALL_TIMEOUT_MS = 6 * 60_000;

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export function readPackageJson(path: string): PackageJson {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
}

/** `npm pack` of the framework and the client; returns each package name's tarball path. */
export async function packTarballs(into: string): Promise<Map<string, string>> {
  const r = await mustRun('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into, '-w', 'packages/framework', '-w', 'packages/client'], {
    cwd: REPO,
    timeoutMs: 120_000,
  });
  const packed = JSON.parse(r.stdout) as { name: string; filename: string }[];
  return new Map(packed.map((p) => [p.name, join(into, p.filename)]));
}

export class FreshProject {
  readonly dir = mkdtempSync(join(tmpdir(), 'raftkit-install-'));

  /**
   * The starter's package.json with the tarballs in place of the published versions, plus the
   * given extra dependencies (Nest), then `npm install` from the npm cache where it can.
   */
  async install(tarballs: Map<string, string>, extra: Record<string, string>): Promise<void> {
    const pkg = readPackageJson(join(STARTER, 'package.json'));
    const dependencies = { ...pkg.dependencies, ...extra };
    for (const [name, tarball] of tarballs) dependencies[name] = `file:${tarball}`;
    writeFileSync(join(this.dir, 'package.json'), JSON.stringify({ ...pkg, dependencies }, null, 2));
    await this.npm(['install']);
  }

  npm(args: string[]) {
    return mustRun('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: this.dir, timeoutMs: INSTALL_TIMEOUT_MS });
  }

  /** The starter's sources and tsconfig exactly as they are in examples/inventory, plus the Nest check app. */
  copySources(): void {
    cpSync(join(STARTER, 'src'), join(this.dir, 'src'), { recursive: true });
    cpSync(join(STARTER, 'tsconfig.json'), join(this.dir, 'tsconfig.json'));
    cpSync(NEST_CHECK, join(this.dir, 'src', CHECKS_DIR, 'nest-check.ts'));
  }

  /** A module re-exporting every subpath of the installed framework, so tsc and node resolve each one. */
  writeExportsCheck(): string[] {
    const exportsMap = (JSON.parse(readFileSync(join(this.dir, 'node_modules', '@raftkit', 'framework', 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;
    const subpaths = Object.keys(exportsMap).filter((s) => !s.endsWith('.json'));
    const lines = subpaths.map((s, i) => `export * as subpath${i} from '@raftkit/framework${s.slice(1)}';`);
    writeFileSync(join(this.dir, 'src', CHECKS_DIR, 'exports-check.ts'), `${lines.join('\n')}\n`);
    return subpaths;
  }

  compile() {
    return mustRun(process.execPath, [join(this.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', this.dir], { cwd: this.dir, timeoutMs: 120_000 });
  }

  installedVersion(pkg: string): string {
    return (JSON.parse(readFileSync(join(this.dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  }

  /** The compiled .js files under dist/, as paths relative to it. */
  compiledFiles(): string[] {
    return readdirSync(join(this.dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
