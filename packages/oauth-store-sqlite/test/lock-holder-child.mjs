// a process for src/sqlite-lock.sweep.test.ts, on the built package: takes `count` names with a
// lease of `lease` ms, holds them (renewing) and prints "held" once every one is taken, until the
// test kills it; a crashed holder, whose rows nobody releases.
import { createSqliteLock } from '@atcute/oauth-store-sqlite';

const [path, count, lease] = process.argv.slice(2);
const lock = createSqliteLock({ path, lease: Number(lease) });
let taken = 0;
for (let i = 0; i < Number(count); i++) {
	void lock(`did:plc:crashed${i}`, () => {
		if (++taken === Number(count)) process.stdout.write('held\n');
		return new Promise(() => {});
	});
}
