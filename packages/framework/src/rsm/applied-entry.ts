/** One applied command, as the watch streams it. */
export interface AppliedEntry {
  index: number;
  term: number;
  command: string;
  args: unknown;
  result: unknown;
}
