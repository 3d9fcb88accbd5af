// Answers that unlocking the vault cures, and the retry after it. A call answered 423
// `vault_locked` (or `escrow_lost`: the enclave restarted and lost the escrow) asks the gate to
// unlock; the gate opens one dialog for every caller waiting at that moment, and each caller
// runs its call once more after it. Cancelling gives each caller its original error.
import { ApiError } from './errors';

export function needsUnlock(error: unknown): error is ApiError {
	if (!(error instanceof ApiError)) return false;
	return (
		(error.status === 423 && error.code === 'vault_locked') ||
		error.code === 'escrow_lost' ||
		error.code === 'not_escrowed'
	);
}

/** What opens the unlock dialog: resolves once unlocked, rejects when it was cancelled. */
export interface Gate {
	request(reason?: 'locked' | 'open'): Promise<void>;
}

export class UnlockCancelled extends Error {
	override readonly name = 'UnlockCancelled';
	constructor() {
		super('The vault was not unlocked.');
	}
}

/** Runs `call`; when the vault must be unlocked, waits for the gate and runs it once more. */
export async function withUnlock<T>(call: () => Promise<T>, gate: Gate): Promise<T> {
	try {
		return await call();
	} catch (error) {
		if (!needsUnlock(error)) throw error;
		try {
			await gate.request('locked');
		} catch {
			throw error;
		}
	}
	return call();
}
