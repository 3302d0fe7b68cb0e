// rqlite's query strings: a flag is on when its key is present (`?transaction&timings`), so flags
// are written as bare keys; valued parameters are URL-encoded.

/** true: a bare flag; a string or number: key=value; false/undefined: left out. */
export type QueryParamValue = boolean | string | number | bigint | undefined;

export function buildQueryString(params: Readonly<Record<string, QueryParamValue>>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === false) continue;
    parts.push(value === true ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
