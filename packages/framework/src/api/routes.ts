// The route table of the HTTP API: which paths exist, their parameters and allowed methods.
// Kept apart from the handler so the contract can be read in one place.

export type RouteName =
  | 'healthz'
  | 'readyz'
  | 'metrics'
  | 'status'
  | 'groups'
  | 'command'
  | 'query'
  | 'schema'
  | 'watch'
  | 'members'
  | 'membership'
  | 'member'
  | 'promote'
  | 'demote'
  | 'transfer'
  | 'snapshot';

export interface Match {
  route: RouteName;
  group: string;
  /** Command or query name, or the member id segment. */
  name: string;
}

const GET = ['GET', 'HEAD'] as const;
export const METHODS: Record<RouteName, readonly string[]> = {
  healthz: GET,
  readyz: GET,
  metrics: GET,
  status: GET,
  schema: GET,
  watch: ['GET'],
  // GET lists the groups this node hosts; POST creates one.
  groups: [...GET, 'POST'],
  command: ['POST'],
  query: ['POST'],
  members: ['POST'],
  membership: ['POST'],
  member: ['DELETE'],
  promote: ['POST'],
  demote: ['POST'],
  transfer: ['POST'],
  snapshot: ['POST'],
};

export function matchRoute(s: string[]): Match | undefined {
  const r = (route: RouteName, group = '', name = ''): Match | undefined => (s.some((x) => x === '') ? undefined : { route, group, name });
  if (s.length === 1) {
    if (s[0] === 'healthz') return r('healthz');
    if (s[0] === 'readyz') return r('readyz');
    if (s[0] === 'metrics') return r('metrics');
    return undefined;
  }
  if (s[0] !== 'v1') return undefined;
  if (s.length === 2) {
    if (s[1] === 'status') return r('status');
    if (s[1] === 'groups') return r('groups');
    return undefined;
  }
  if (s[1] !== 'groups' || s.length < 4) return undefined;
  const group = s[2]!;
  const [a, b, c] = [s[3], s[4], s[5]];
  switch (s.length) {
    case 4:
      if (a === 'schema') return r('schema', group);
      if (a === 'watch') return r('watch', group);
      if (a === 'members') return r('members', group);
      if (a === 'membership') return r('membership', group);
      if (a === 'snapshot') return r('snapshot', group);
      return undefined;
    case 5:
      if (a === 'commands') return r('command', group, b);
      if (a === 'queries') return r('query', group, b);
      if (a === 'members') return r('member', group, b);
      if (a === 'leader' && b === 'transfer') return r('transfer', group);
      return undefined;
    case 6:
      if (a === 'members' && c === 'promote') return r('promote', group, b);
      if (a === 'members' && c === 'demote') return r('demote', group, b);
      return undefined;
    default:
      return undefined;
  }
}
