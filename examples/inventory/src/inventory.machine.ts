import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { Command, Query, RaftkitError, StateMachine } from '@raftkit/framework';

// The arguments of each operation are a class: the node validates a request's JSON against it
// (class-validator) before anything reaches the log, and answers 400 naming the bad field.
export class ItemArgs {
  @IsString()
  @IsNotEmpty()
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  qty!: number;
}

export class SkuArgs {
  @IsString()
  @IsNotEmpty()
  sku!: string;
}

/**
 * Stock per SKU, replicated on every node of the group. Commands run on every replica in log
 * order, so they must be deterministic: no clock, no randomness, no I/O.
 */
@StateMachine('inventory')
export class Inventory {
  // The default snapshot saves the instance's fields (a Map with string keys included).
  private stockBySku = new Map<string, number>();

  @Command()
  addItem(a: ItemArgs): { sku: string; stock: number } {
    const stock = (this.stockBySku.get(a.sku) ?? 0) + a.qty;
    this.stockBySku.set(a.sku, stock);
    return { sku: a.sku, stock };
  }

  @Command()
  removeItem(a: ItemArgs): { sku: string; stock: number } {
    const stock = this.stockBySku.get(a.sku) ?? 0;
    // Every replica refuses the same way, so the state stays identical; the caller gets a 409.
    if (a.qty > stock) throw new RaftkitError('conflict', `cannot remove ${a.qty} of "${a.sku}": ${stock} in stock`);
    if (stock === a.qty) this.stockBySku.delete(a.sku);
    else this.stockBySku.set(a.sku, stock - a.qty);
    return { sku: a.sku, stock: stock - a.qty };
  }

  @Query()
  stock(a: SkuArgs): { sku: string; stock: number } {
    return { sku: a.sku, stock: this.stockBySku.get(a.sku) ?? 0 };
  }
}
