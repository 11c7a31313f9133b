export { type AppMessage, type AppProcess, startAppProcess } from './app-process.ts';
export { describeLock, type LockHarness } from './describe-lock.ts';
export { describeStore, type StoreCapabilities, type StoreHarness } from './describe-store.ts';
