// What require('@raftkit/framework') loads. The package is ECMAScript modules only; without this file a
// CommonJS caller gets ERR_REQUIRE_ESM (Node < 20.19) or TS1479 from tsc with no hint of the fix, or
// on newer Node an untested require(esm) path. One clear message instead.
throw new Error(
  '@raftkit/framework is ESM-only: set "type": "module" in package.json and "module"/"moduleResolution": "nodenext" in tsconfig.json ' +
    '(or load it with `await import()`); see "Build your own service" in the raftkit README.',
);
