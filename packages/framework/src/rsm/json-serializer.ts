/**
 * JSON serialisation that yields to the event loop between slices, so a large snapshot does not
 * block the process. The output is byte for byte what JSON.stringify would produce. The value
 * must not change while this runs (it is a captured copy).
 */

const encoder = new TextEncoder();

/** Depth up to which plain objects and arrays are walked piece by piece; below it JSON.stringify does the rest. */
const WALK_DEPTH = 4;

function isPlainContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/** Most members a container may have to count as small (stringified in one go). */
const SMALL_MEMBERS = 16;
/** Consecutive small array elements stringified together. */
const RUN_LENGTH = 512;

/**
 * A primitive, or a plain container of at most SMALL_MEMBERS primitives: cheap to hand to
 * JSON.stringify whole (walking it piece by piece costs far more than it saves).
 */
function isSmall(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (!isPlainContainer(v)) return false;
  if (Array.isArray(v)) {
    if (v.length > SMALL_MEMBERS) return false;
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' && e !== null) return false;
    }
    return true;
  }
  let n = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    if (++n > SMALL_MEMBERS) return false;
    const e = v[key];
    if (typeof e === 'object' && e !== null) return false;
  }
  return true;
}

/**
 * Small, or a plain container of at most SMALL_MEMBERS small members (a record such as
 * `{index, term, command, args: {...}, result: {...}}`): still cheap to stringify whole, and
 * walking each of thousands of them costs several times more than the stringify.
 */
function isCompact(v: unknown): boolean {
  if (isSmall(v)) return true;
  if (!isPlainContainer(v)) return false;
  if (Array.isArray(v)) {
    if (v.length > SMALL_MEMBERS) return false;
    for (let i = 0; i < v.length; i++) if (!isSmall(v[i])) return false;
    return true;
  }
  let n = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    if (++n > SMALL_MEMBERS || !isSmall(v[key])) return false;
  }
  return true;
}

function* walk(v: unknown, depth: number): Generator<string, void, undefined> {
  if (depth >= WALK_DEPTH || !isPlainContainer(v)) {
    yield JSON.stringify(v) ?? 'null';
    return;
  }
  if (Array.isArray(v)) {
    yield '[';
    let i = 0;
    while (i < v.length) {
      // A run of compact elements is one JSON.stringify (of the slice, without its brackets).
      let j = i;
      while (j < v.length && j - i < RUN_LENGTH && isCompact(v[j])) j++;
      if (j > i) {
        const run = JSON.stringify(v.slice(i, j));
        yield `${i > 0 ? ',' : ''}${run.slice(1, -1)}`;
        i = j;
        continue;
      }
      if (i > 0) yield ',';
      yield* walk(v[i], depth + 1);
      i++;
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const e = v[key];
    if (depth + 1 < WALK_DEPTH && isPlainContainer(e) && !isSmall(e)) {
      yield `${first ? '' : ','}${JSON.stringify(key)}:`;
      first = false;
      yield* walk(e, depth + 1);
      continue;
    }
    const s = JSON.stringify(e);
    if (s === undefined) continue; // undefined, functions and symbols are left out of objects
    yield `${first ? '' : ','}${JSON.stringify(key)}:${s}`;
    first = false;
  }
  yield '}';
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** JSON of `value` as UTF-8, yielding to the event loop after each `sliceChars` characters. */
export async function serializeJson(value: unknown, sliceChars = 1 << 17): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  let total = 0;
  const flush = () => {
    const bytes = encoder.encode(pending.join(''));
    chunks.push(bytes);
    total += bytes.length;
    pending = [];
    pendingChars = 0;
  };
  for (const piece of walk(value, 0)) {
    pending.push(piece);
    pendingChars += piece.length;
    if (pendingChars >= sliceChars) {
      flush();
      await nextTurn();
    }
  }
  flush();
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
