// class-transformer 0.5 ships no types next to its CommonJS files; this is the part of its
// metadata store (types/MetadataStorage.d.ts) that fast-args.ts reads.
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: {
    getStrategy(target: Function): 'excludeAll' | 'exposeAll' | 'none';
    getExposedMetadatas(target: Function): unknown[];
    getExcludedMetadatas(target: Function): unknown[];
    findTypeMetadata(target: Function, propertyName: string): unknown;
    findTransformMetadatas(target: Function, propertyName: string, transformationType: number): unknown[];
  };
}
