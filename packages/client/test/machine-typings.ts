// Compile-time checks of client.machine<typeof M>() (never run): every `@ts-expect-error` below
// must be an error, so the build fails if the derived types let a wrong call through.
import type { MachineClient, OperationResponse, RaftClient } from '../src/index.js';
import type { KvMachine } from './kv-machine.js';

interface AddItem {
  sku: string;
  qty: number;
}

/** A state machine as its author writes it (decorators left out: the types never see them). */
class Inventory {
  private readonly stockBySku = new Map<string, number>();
  protected audits = 0;
  /** A public field that is not a function: not an operation. */
  readonly type = 'inventory';

  addItem(args: AddItem): { stock: number } {
    const stock = (this.stockBySku.get(args.sku) ?? 0) + args.qty;
    this.stockBySku.set(args.sku, stock);
    return { stock };
  }

  stock(args: { sku: string }): { sku: string; stock: number } {
    return { sku: args.sku, stock: this.stockBySku.get(args.sku) ?? 0 };
  }

  /** No parameter: called without arguments. */
  skus(): string[] {
    return [...this.stockBySku.keys()];
  }

  /** An optional parameter: the arguments may be left out. */
  low(args?: { below: number }): string[] {
    return [...this.stockBySku].filter(([, n]) => n < (args?.below ?? 1)).map(([sku]) => sku);
  }

  /** The result is the awaited value, not the promise. */
  async reserve(args: { sku: string }): Promise<{ reserved: boolean }> {
    return { reserved: this.stockBySku.has(args.sku) };
  }

  /** A `then` member would make the client look like a promise: it is never an operation. */
  then(): void {}

  protected audit(): number {
    return ++this.audits;
  }

  static create(): Inventory {
    return new Inventory();
  }
}

export function machineTypingsCompile(client: RaftClient): void {
  const inv = client.machine<typeof Inventory>('inventory');

  const added: Promise<OperationResponse<{ stock: number }>> = inv.addItem({ sku: 'a', qty: 3 });
  const stock: Promise<OperationResponse<{ sku: string; stock: number }>> = inv.stock({ sku: 'a' }, { consistency: 'lease', deadlineMs: 500 });
  const skus: Promise<OperationResponse<string[]>> = inv.skus();
  const skusLocal: Promise<OperationResponse<string[]>> = inv.skus(undefined, { consistency: 'local' });
  const low: Promise<OperationResponse<string[]>> = inv.low();
  const lowBelow: Promise<OperationResponse<string[]>> = inv.low({ below: 2 });
  const reserved: Promise<OperationResponse<{ reserved: boolean }>> = inv.reserve({ sku: 'a' }, { signal: AbortSignal.timeout(100) });

  // @ts-expect-error a name the class does not have
  void inv.removeItem({ sku: 'a' });
  // @ts-expect-error a wrong argument type
  void inv.addItem({ sku: 'a', qty: '3' });
  // @ts-expect-error a missing argument field
  void inv.addItem({ sku: 'a' });
  // @ts-expect-error arguments are required when the method's parameter is
  void inv.addItem();
  // @ts-expect-error a method without parameters takes no arguments
  void inv.skus({ sku: 'a' });
  // @ts-expect-error a bad consistency
  void inv.stock({ sku: 'a' }, { consistency: 'eventual' });
  // @ts-expect-error the result is the method's result, not something else
  const wrongResult: Promise<OperationResponse<{ stock: string }>> = inv.addItem({ sku: 'a', qty: 3 });
  // @ts-expect-error the result is awaited, not a promise
  const notAwaited: Promise<OperationResponse<Promise<{ reserved: boolean }>>> = inv.reserve({ sku: 'a' });
  // @ts-expect-error private members are not operations
  void inv.stockBySku;
  // @ts-expect-error protected methods are not operations
  void inv.audit;
  // @ts-expect-error fields that are not functions are not operations
  void inv.type;
  // @ts-expect-error static methods are not operations
  void inv.create;
  // @ts-expect-error `then` is never an operation
  void inv.then;
  // @ts-expect-error the class, not its instance type
  void client.machine<Inventory>('inventory');

  // The KV demo's class: its snapshot hooks type-check too; the schema refuses them at run time.
  const kv: MachineClient<typeof KvMachine> = client.machine<typeof KvMachine>('kv');
  const cas: Promise<OperationResponse<{ succeeded: boolean; revision: number }>> = kv.cas({ key: 'a', expected: null, value: 'v' });
  // @ts-expect-error cas needs `expected`
  void kv.cas({ key: 'a', value: 'v' });
  // @ts-expect-error a result field the method does not return
  void kv.put({ key: 'a', value: 'b' }).then((r) => r.result.deleted);

  void [added, stock, skus, skusLocal, low, lowBelow, reserved, wrongResult, notAwaited, cas];
}
