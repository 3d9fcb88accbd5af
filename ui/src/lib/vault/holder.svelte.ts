// The vault opened in this tab: the vault key (a non-extractable HKDF CryptoKey), the credential
// key derived from it (non-extractable AES-GCM), whose they are, and what the server said of the
// vault. Memory only: never written to any storage, dropped on Lock, on sign-out, when another
// tab says the vault was locked or the session ended, and when its time is up (the server's
// session lifetime, else 24 hours). Nothing here can print a key: CryptoKeys have no bytes to show.
import type { VaultInfo } from '$lib/api/types';
import type { TabMessage } from '$lib/broadcast';

export interface OpenedVault {
	/** The owner's id, the binding of every wrap and credential. */
	readonly userId: string;
	/** HKDF base key; derives the credential key and the verifier. */
	readonly vaultKey: CryptoKey;
	/** AES-256-GCM, encrypt/decrypt of credential ciphertexts. */
	readonly credentialKey: CryptoKey;
	/** `GET /v1/vault` as it was when the vault was opened. */
	readonly info: VaultInfo;
}

export type DropReason = 'lock' | 'signed-out' | 'other-tab' | 'expired' | 'user-changed' | 'replaced';

/** When the server's vault information gives no session lifetime. */
export const DEFAULT_HOLD_SECS = 24 * 3600;
/** setTimeout's largest delay (about 24.8 days); longer holds are checked again when read. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface HolderClock {
	now: () => number;
	setTimer: (callback: () => void, ms: number) => unknown;
	clearTimer: (timer: unknown) => void;
}

const systemClock: HolderClock = {
	now: () => Date.now(),
	setTimer: (callback, ms) => setTimeout(callback, ms),
	clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>)
};

export class VaultKeyHolder {
	/** Whether a vault is open in this tab (reactive). */
	isOpen = $state(false);
	/** When the held key is dropped, in milliseconds since the epoch (reactive). */
	expiresAt = $state<number | undefined>(undefined);
	/** Why the key was last dropped (reactive), for a page to say so. */
	lastDrop = $state<DropReason | undefined>(undefined);
	// Not $state: a CryptoKey must not be wrapped in a proxy, and nothing renders it.
	#opened: OpenedVault | undefined;
	#timer: unknown;
	#clock: HolderClock;

	constructor(clock: HolderClock = systemClock) {
		this.#clock = clock;
	}

	/** Keeps `opened` for `holdSecs` (the server's session lifetime) or 24 hours. */
	hold(opened: OpenedVault, holdSecs?: number): void {
		if (this.#opened) this.drop('replaced');
		const secs = holdSecs && holdSecs > 0 ? holdSecs : DEFAULT_HOLD_SECS;
		this.#opened = opened;
		this.expiresAt = this.#clock.now() + secs * 1000;
		this.isOpen = true;
		this.lastDrop = undefined;
		this.#timer = this.#clock.setTimer(() => this.#expire(), Math.min(secs * 1000, MAX_TIMER_MS));
	}

	/** The opened vault, unless none is held or its time is up. */
	get(): OpenedVault | undefined {
		if (this.#opened && this.expiresAt !== undefined && this.#clock.now() >= this.expiresAt) {
			this.drop('expired');
		}
		return this.#opened;
	}

	/** Forgets the keys (the CryptoKeys become unreachable and are collected). */
	drop(reason: DropReason): void {
		if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
		this.#timer = undefined;
		if (this.#opened === undefined) return;
		this.#opened = undefined;
		this.isOpen = false;
		this.expiresAt = undefined;
		this.lastDrop = reason;
	}

	/** A message from another tab: a lock or a sign-out there drops the key here too. */
	onTabMessage(message: TabMessage): void {
		if (message.type === 'signed-out') this.drop('signed-out');
		else if (message.type === 'vault' && message.state === 'locked') this.drop('other-tab');
	}

	/** The signed-in user is now `userId` (or nobody): a key of someone else is dropped. */
	onUser(userId: string | undefined): void {
		if (this.#opened && this.#opened.userId !== userId) this.drop('user-changed');
	}

	#expire(): void {
		// A hold longer than one timer: check, and wait again for the rest.
		const left = (this.expiresAt ?? 0) - this.#clock.now();
		if (left > 0 && this.#opened) {
			this.#timer = this.#clock.setTimer(() => this.#expire(), Math.min(left, MAX_TIMER_MS));
			return;
		}
		this.drop('expired');
	}
}

/** The app's one holder. */
export const vaultHolder = new VaultKeyHolder();
