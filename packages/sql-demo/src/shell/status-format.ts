// /status as indented "key: value" lines, the way the rqlite shell prints it: nested objects
// indented under their key, lists of scalars on one line.

export function formatStatus(value: unknown, indent = ''): string {
  if (!isObject(value)) return `${indent}${scalar(value)}\n`;
  let out = '';
  for (const [key, member] of Object.entries(value)) {
    if (isObject(member)) {
      out += `${indent}${key}:\n${formatStatus(member, `${indent}  `)}`;
    } else if (Array.isArray(member) && member.some((m) => isObject(m) || Array.isArray(m))) {
      out += `${indent}${key}:\n`;
      for (const item of member) out += isObject(item) ? `${indent}  -\n${formatStatus(item, `${indent}    `)}` : `${indent}  - ${scalar(item)}\n`;
    } else {
      out += `${indent}${key}: ${scalar(member)}\n`;
    }
  }
  return out;
}

function scalar(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(scalar).join(', ')}]`;
  if (value === null || value === undefined) return 'null';
  return String(value as string | number | bigint | boolean);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
