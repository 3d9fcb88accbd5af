// One sentence for the next page to show (a credential was added, and escrowed or not), kept
// in memory and read once.
const messages = new Map<string, string>();

export function flash(key: string, message: string): void {
	messages.set(key, message);
}

/** The message for `key`, forgotten as it is read. */
export function takeFlash(key: string): string | undefined {
	const message = messages.get(key);
	messages.delete(key);
	return message;
}
