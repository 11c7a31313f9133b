export { type AppMessage, type AppProcess, startAppProcess } from './app-process.ts';
export {
	type CrossProcessAccount,
	type CrossProcessHarness,
	describeCrossProcessRefresh,
} from './describe-cross-process-refresh.ts';
export { describeLock, type LockHarness } from './describe-lock.ts';
export { describeStore, type StoreCapabilities, type StoreHarness } from './describe-store.ts';
export {
	type OtherProcess,
	type StallingRefresh,
	stallingRefresh,
	startOtherProcess,
} from './stalling-refresh.ts';
