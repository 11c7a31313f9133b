export { compactCodec } from './compact-codec.ts';
export { MemoryStore, type MemoryStoreCodec, type MemoryStoreOptions } from './memory-store.ts';
