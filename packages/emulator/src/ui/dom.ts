// The page's few DOM helpers: views render HTML strings from escaped values, and one delegated
// listener per container maps data-cmd attributes to commands.

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes a value for HTML text and attribute values. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** The value of an input or select inside `root`, by its data-field name. */
export function field(root: HTMLElement, name: string): string {
  const el = root.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-field="${name}"]`);
  if (!el) throw new Error(`no field ${name}`);
  return el.value.trim();
}

/** Calls handlers[cmd](button) when an element with data-cmd inside `root` is clicked. */
export function onCommand(root: HTMLElement, handlers: Record<string, (el: HTMLElement) => void>): void {
  root.addEventListener('click', (ev) => {
    const el = (ev.target as HTMLElement).closest<HTMLElement>('[data-cmd]');
    if (!el || !root.contains(el)) return;
    const h = handlers[el.dataset.cmd!];
    if (h) h(el);
  });
}

export const options = (values: ReadonlyArray<string | number>, selected?: string | number, labels?: (v: string | number) => string): string =>
  values.map((v) => `<option value="${esc(v)}"${String(v) === String(selected) ? ' selected' : ''}>${esc(labels ? labels(v) : v)}</option>`).join('');

/** Parses "1,2" into node ids; throws a message for the notice line. */
export function parseIds(text: string, what: string): number[] {
  if (text === '') return [];
  const ids = text.split(/[\s,]+/).map((s) => Number(s.replace(/^n/, '')));
  if (ids.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${what}: write node ids like "1,2"`);
  return ids;
}
