// What the whole app knows about the server and the signed-in user. Memory only: nothing here
// is written to storage.
import type { Me, SignInMethods } from '$lib/api/types';

/**
 * Where the app stands on "who is signed in":
 * - `unknown`: nobody asked yet (a fresh tab, a new sign-in, a retry): the shell loads /v1/users/me;
 * - `loading`, then `known` (`me` is set) or `failed` (`error` says why);
 * - `signed-out`: the session ended (here, in another tab, or it could not be refreshed). Nothing
 *   is loaded until `restart`, so a shell page that is being left does not ask again.
 */
export type MeStatus = 'unknown' | 'loading' | 'known' | 'failed' | 'signed-out';

export class Session {
	methods = $state<SignInMethods | undefined>(undefined);
	me = $state<Me | undefined>(undefined);
	status = $state<MeStatus>('unknown');
	/** Why loading the user failed (status `failed`). */
	error = $state<unknown>(undefined);
	/** Bumped when another tab reports a vault change, so pages showing it reload. */
	vaultVersion = $state(0);
	// Each end or restart starts a new epoch: an answer to a load from an older one is stale
	// (a /v1/users/me that fails because of the sign-out itself must not show as an error
	// after the next sign-in).
	#epoch = 0;

	get authEnabled(): boolean {
		return this.methods?.auth_enabled ?? true;
	}

	get canManageOrganisation(): boolean {
		return this.me?.role === 'owner' || this.me?.role === 'admin';
	}

	/** A provider's display name ("Google"), from /auth/methods; the id when unknown. */
	providerName(id: string): string {
		return this.methods?.providers.find((p) => p.id === id)?.name ?? id;
	}

	/** Loads the signed-in user with `fetchMe`; does nothing unless the status is `unknown`. */
	async load(fetchMe: () => Promise<Me>): Promise<void> {
		if (this.status !== 'unknown') return;
		const epoch = this.#epoch;
		this.status = 'loading';
		try {
			const me = await fetchMe();
			if (epoch === this.#epoch) this.#set('known', me, undefined);
		} catch (error) {
			if (epoch === this.#epoch) this.#set('failed', undefined, error);
		}
	}

	/** The session is over: forget the user; loads under way are ignored. */
	end(): void {
		this.#epoch += 1;
		this.#set('signed-out', undefined, undefined);
	}

	/** Someone (may have) signed in, or a failed load is retried: load the user afresh. */
	restart(): void {
		this.#epoch += 1;
		this.#set('unknown', undefined, undefined);
	}

	#set(status: MeStatus, me: Me | undefined, error: unknown): void {
		this.status = status;
		this.me = me;
		this.error = error;
	}
}

export const session = new Session();
