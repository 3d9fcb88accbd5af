// Display helpers. Times from the API are Unix seconds.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(unixSeconds: number | null | undefined): string {
	if (unixSeconds === null || unixSeconds === undefined) return '—';
	return dateTime.format(new Date(unixSeconds * 1000));
}

/** An ISO timestamp for <time datetime>. */
export function isoTime(unixSeconds: number): string {
	return new Date(unixSeconds * 1000).toISOString();
}

export function plural(count: number, one: string, many: string): string {
	return `${count} ${count === 1 ? one : many}`;
}
