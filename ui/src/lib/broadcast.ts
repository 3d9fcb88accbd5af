// Cross-tab messages on BroadcastChannel("aileron"). Messages from other tabs are parsed, not
// trusted: anything that is not one of these shapes is ignored.

export type TabMessage = { type: 'signed-out' } | { type: 'vault'; state: string };

export const CHANNEL = 'aileron';

/** The message, or undefined when `data` is not one we know. */
export function parseMessage(data: unknown): TabMessage | undefined {
	if (typeof data !== 'object' || data === null) return undefined;
	const { type, state } = data as { type?: unknown; state?: unknown };
	if (type === 'signed-out') return { type };
	if (type === 'vault' && typeof state === 'string') return { type, state };
	return undefined;
}

function channel(): BroadcastChannel | undefined {
	return typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(CHANNEL);
}

/** Tells the other tabs (a tab never receives its own messages). */
export function announce(message: TabMessage): void {
	const ch = channel();
	ch?.postMessage(message);
	ch?.close();
}

/** Listens to the other tabs; returns the function that stops listening. */
export function listen(handler: (message: TabMessage) => void): () => void {
	const ch = channel();
	if (!ch) return () => {};
	ch.onmessage = (event) => {
		const message = parseMessage(event.data);
		if (message) handler(message);
	};
	return () => ch.close();
}
