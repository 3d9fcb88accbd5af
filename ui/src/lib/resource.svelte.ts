// Data a page loads from the API, with its loading and error states.

export class Resource<T> {
	data = $state<T | undefined>(undefined);
	error = $state<unknown>(undefined);
	loading = $state(true);
	#fetcher: () => Promise<T>;
	#generation = 0;

	constructor(fetcher: () => Promise<T>) {
		this.#fetcher = fetcher;
		void this.reload();
	}

	/** Loads again; an answer to an older load that arrives late is dropped. */
	async reload(): Promise<void> {
		const generation = ++this.#generation;
		this.loading = true;
		this.error = undefined;
		try {
			const data = await this.#fetcher();
			if (generation === this.#generation) this.data = data;
		} catch (error) {
			if (generation === this.#generation) this.error = error;
		} finally {
			if (generation === this.#generation) this.loading = false;
		}
	}
}
