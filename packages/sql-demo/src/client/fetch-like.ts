// The slice of the Fetch API the client uses, so tests and the shell can hand in their own.

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;
