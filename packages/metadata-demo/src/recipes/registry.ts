// A service registry on leases: an instance registers `<prefix><service>/<instance>` bound to its
// session's lease, so it disappears when the instance dies (its lease expires) or leaves; a
// client follows a service's instances with followRange (a consistent get, then a watch), so its
// view is always some revision's exact state.
import type { MetaBackend } from '../api/meta-backend.js';
import { bytes, deleteRequest, prefixEnd, putRequest } from '../api/request-builders.js';
import { followRange } from './follow-range.js';
import type { Session } from './session.js';

export interface ServiceInstances {
  /** Instance id → its registered value (an address, a JSON document). */
  instances: Map<string, string>;
  /** The revision this view is exact at. */
  revision: number;
}

export class ServiceRegistry {
  constructor(
    private readonly backend: MetaBackend,
    readonly prefix = 'services/',
  ) {}

  private keyOf(service: string, instance: string): string {
    return `${this.prefix}${service}/${instance}`;
  }

  /** Registers an instance for as long as `session` lives (or until deregister). */
  async register(session: Session, service: string, instance: string, value: string): Promise<void> {
    await this.backend.put(putRequest(this.keyOf(service, instance), value, { lease: session.lease }));
  }

  async deregister(service: string, instance: string): Promise<void> {
    await this.backend.deleteRange(deleteRequest(this.keyOf(service, instance)));
  }

  /** Calls `onChange` with every instance of `service`, now and after each change; returns a stop function. */
  watch(service: string, onChange: (view: ServiceInstances) => void): () => void {
    const prefix = bytes(`${this.prefix}${service}/`);
    const instances = new Map<string, string>();
    const nameOf = (key: Buffer) => key.subarray(prefix.length).toString('utf8');
    return followRange(
      this.backend,
      { key: prefix, rangeEnd: prefixEnd(prefix) },
      {
        reset: (kvs, revision) => {
          instances.clear();
          for (const kv of kvs) instances.set(nameOf(kv.key), kv.value.toString('utf8'));
          onChange({ instances: new Map(instances), revision });
        },
        changes: (events, revision) => {
          for (const e of events) {
            if (e.type === 'put') instances.set(nameOf(e.kv.key), e.kv.value.toString('utf8'));
            else instances.delete(nameOf(e.kv.key));
          }
          onChange({ instances: new Map(instances), revision });
        },
      },
    );
  }
}
