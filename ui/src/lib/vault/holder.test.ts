import { describe, expect, it } from 'vitest';
import type { VaultInfo } from '$lib/api/types';
import { DEFAULT_HOLD_SECS, VaultKeyHolder, type HolderClock, type OpenedVault } from './holder.svelte';

/** A clock the test moves by hand, with timers that fire when it passes them. */
function manualClock() {
	let now = 1_000_000;
	const timers = new Map<number, { at: number; callback: () => void }>();
	let next = 1;
	const clock: HolderClock = {
		now: () => now,
		setTimer: (callback, ms) => {
			timers.set(next, { at: now + ms, callback });
			return next++;
		},
		clearTimer: (timer) => void timers.delete(timer as number)
	};
	function advance(ms: number) {
		now += ms;
		for (const [id, timer] of [...timers]) {
			if (timer.at <= now) {
				timers.delete(id);
				timer.callback();
			}
		}
	}
	return { clock, advance, pending: () => timers.size };
}

const opened = (userId = 'u1'): OpenedVault => ({
	userId,
	vaultKey: {} as CryptoKey,
	credentialKey: {} as CryptoKey,
	info: { session_ttl_secs: 600 } as VaultInfo
});

describe('VaultKeyHolder', () => {
	it('holds the opened vault until its time is up, then forgets it', () => {
		const { clock, advance } = manualClock();
		const holder = new VaultKeyHolder(clock);
		holder.hold(opened(), 600);
		expect(holder.isOpen).toBe(true);
		expect(holder.get()?.userId).toBe('u1');
		advance(599_000);
		expect(holder.get()).toBeDefined();
		advance(1_000);
		expect(holder.get()).toBeUndefined();
		expect(holder.isOpen).toBe(false);
		expect(holder.lastDrop).toBe('expired');
	});

	it('holds for 24 hours when the server gives no session lifetime', () => {
		const { clock, advance } = manualClock();
		const holder = new VaultKeyHolder(clock);
		holder.hold(opened(), undefined);
		advance(DEFAULT_HOLD_SECS * 1000 - 1);
		expect(holder.isOpen).toBe(true);
		advance(1);
		expect(holder.isOpen).toBe(false);
	});

	it('drops the key even if the timer did not fire (a suspended tab), when it is read', () => {
		const clock: HolderClock = { now: () => 0, setTimer: () => 1, clearTimer: () => {} };
		let now = 0;
		clock.now = () => now;
		const holder = new VaultKeyHolder(clock);
		holder.hold(opened(), 60);
		now = 60_000;
		expect(holder.get()).toBeUndefined();
		expect(holder.lastDrop).toBe('expired');
	});

	it('drops the key on lock and clears its timer', () => {
		const { clock, pending } = manualClock();
		const holder = new VaultKeyHolder(clock);
		holder.hold(opened(), 600);
		holder.drop('lock');
		expect(holder.get()).toBeUndefined();
		expect(holder.lastDrop).toBe('lock');
		expect(pending()).toBe(0);
	});

	it.each([
		[{ type: 'signed-out' } as const, 'signed-out'],
		[{ type: 'vault', state: 'locked' } as const, 'other-tab']
	])('drops the key when another tab says %j', (message, reason) => {
		const holder = new VaultKeyHolder(manualClock().clock);
		holder.hold(opened(), 600);
		holder.onTabMessage(message);
		expect(holder.get()).toBeUndefined();
		expect(holder.lastDrop).toBe(reason);
	});

	it('keeps the key when another tab unlocked', () => {
		const holder = new VaultKeyHolder(manualClock().clock);
		holder.hold(opened(), 600);
		holder.onTabMessage({ type: 'vault', state: 'unlocked' });
		expect(holder.isOpen).toBe(true);
	});

	it('drops the key of another user when the signed-in user changes, and keeps its own', () => {
		const holder = new VaultKeyHolder(manualClock().clock);
		holder.hold(opened('u1'), 600);
		holder.onUser('u1');
		expect(holder.isOpen).toBe(true);
		holder.onUser('u2');
		expect(holder.isOpen).toBe(false);
		expect(holder.lastDrop).toBe('user-changed');
	});

	it('replaces a held vault, with one timer', () => {
		const { clock, pending } = manualClock();
		const holder = new VaultKeyHolder(clock);
		holder.hold(opened('u1'), 600);
		holder.hold(opened('u1'), 900);
		expect(pending()).toBe(1);
		expect(holder.isOpen).toBe(true);
	});
});
