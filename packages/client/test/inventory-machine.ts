// The state machine class the fake-node tests type their machine clients from. Only its type is
// used, so it is declared without a body; the fake nodes' schemas decide what each name is.

export declare class Inventory {
  addItem(args: { sku: string; qty: number }): { stock: number };
  restock(args: { sku: string }): { stock: number };
  stock(args: { sku: string }): { stock: number };
  skus(): string[];
  removeItem(args: { sku: string }): { removed: boolean };
}
