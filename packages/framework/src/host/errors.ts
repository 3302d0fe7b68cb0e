/** Errors of the host, each with a stable code that the HTTP layer maps to a status. */
export type HostErrorCode = 'unknown_group' | 'group_exists' | 'not_leader' | 'timeout' | 'proposal_dropped' | 'stopped' | 'not_started' | 'bad_request';

export class HostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
    readonly leader?: number,
  ) {
    super(message);
    this.name = 'HostError';
  }
}
