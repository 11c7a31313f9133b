import { describe, expect, it } from 'vitest';

import { acquirePurgePacer, PURGE_BURST_STEPS, purgePause } from './purge-pacing.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('purgePause', () => {
	it('is 0 where no worker checkpoints the file: SQLite checkpoints inside a commit, between our steps', () => {
		expect(purgePause(0)).toBe(0);
	});

	it('outlasts one checkpoint interval by half of it, and by at least 50 ms for the pass itself', () => {
		expect(purgePause(100)).toBe(150);
		expect(purgePause(1_000)).toBe(1_500);
		expect(purgePause(10)).toBe(60);
		expect(purgePause(1)).toBe(51);
	});
});

describe('acquirePurgePacer', () => {
	const file = (name: string) => `/tmp/oauth-store-sqlite-pacing-test/${name}.db`;

	it('shares one burst among the stores on one file: the step that ends it holds every one of them', () => {
		const sessions = acquirePurgePacer(file('shared'));
		// the same file, named from elsewhere
		const states = acquirePurgePacer('/tmp/oauth-store-sqlite-pacing-test/./x/../shared.db');
		const elsewhere = acquirePurgePacer(file('elsewhere'));
		try {
			for (let step = 1; step < PURGE_BURST_STEPS; step++) {
				expect((step % 2 === 0 ? sessions : states).stepped(1_000)).toBe(0);
			}
			expect(sessions.stepped(1_000)).toBe(1_000);
			expect(states.wait()).toBeGreaterThan(900);
			expect(sessions.wait()).toBeGreaterThan(900);
			// another file paces itself
			expect(elsewhere.wait()).toBe(0);
		} finally {
			sessions.release();
			states.release();
			elsewhere.release();
		}
	});

	it('starts a new burst after a quiet gap as long as a pause, in which a checkpoint could finish', async () => {
		const pacer = acquirePurgePacer(file('gap'));
		try {
			for (let step = 1; step < PURGE_BURST_STEPS; step++) expect(pacer.stepped(1_000)).toBe(0);
			await sleep(30);
			expect(pacer.stepped(20)).toBe(0);
		} finally {
			pacer.release();
		}
	});

	it("is dropped when the file's last store lets go, not before; a second release changes nothing", () => {
		const first = acquirePurgePacer(file('release'));
		const second = acquirePurgePacer(file('release'));
		for (let step = 0; step < PURGE_BURST_STEPS; step++) first.stepped(1_000);
		first.release();
		first.release();
		const third = acquirePurgePacer(file('release'));
		// still the pacing the second holds: the pause goes on
		expect(third.wait()).toBeGreaterThan(900);
		second.release();
		third.release();
		const fresh = acquirePurgePacer(file('release'));
		expect(fresh.wait()).toBe(0);
		fresh.release();
	});
});
