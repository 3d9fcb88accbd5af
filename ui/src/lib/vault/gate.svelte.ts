// One unlock dialog for the whole app. A call answered 423 `vault_locked` (or `escrow_lost`, a
// credential with no live escrow) asks the gate to unlock; concurrent callers share the one
// dialog and are all retried once it succeeds. Cancelling gives each caller its original error.
import { UnlockCancelled } from '$lib/api/unlock';

export { UnlockCancelled };

export class UnlockGate {
	/** Whether the dialog should be open (reactive). */
	open = $state(false);
	/** Why it opened: a locked answer, or a page that needs the vault opened in this tab. */
	reason = $state<'locked' | 'open'>('locked');
	#waiting: Promise<void> | undefined;
	#resolve: (() => void) | undefined;
	#reject: ((error: unknown) => void) | undefined;

	/** Resolves once the vault is unlocked; rejects with UnlockCancelled. Shared while open. */
	request(reason: 'locked' | 'open' = 'locked'): Promise<void> {
		if (this.#waiting) return this.#waiting;
		this.reason = reason;
		this.#waiting = new Promise<void>((resolve, reject) => {
			this.#resolve = resolve;
			this.#reject = reject;
		});
		this.open = true;
		return this.#waiting;
	}

	/** The dialog unlocked the vault: every waiting call goes on. */
	unlocked(): void {
		const resolve = this.#resolve;
		this.#reset();
		resolve?.();
	}

	/** The dialog was closed without unlocking. */
	cancelled(): void {
		const reject = this.#reject;
		this.#reset();
		reject?.(new UnlockCancelled());
	}

	#reset(): void {
		this.#waiting = undefined;
		this.#resolve = undefined;
		this.#reject = undefined;
		this.open = false;
	}
}

/** The app's one gate; the dialog in the app shell answers it. */
export const unlockGate = new UnlockGate();
