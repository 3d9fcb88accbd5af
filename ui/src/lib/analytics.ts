// Page-view analytics, isolated here and off unless PUBLIC_POSTHOG_KEY was set at BUILD time
// (vite.config.ts defines __POSTHOG_KEY__; an empty key removes this code from the bundle's
// paths). No posthog-js: it would load remote scripts and persist an id in storage. Instead one
// small POST per navigation to PostHog's capture endpoint, with:
//   - the route pattern only (/credentials/:name), never the path's values, the query string,
//     an email address or a credential name;
//   - a random id made per page load and kept in memory (no cookie, no storage), and
//     `$process_person_profile: false`, so events are anonymous;
//   - no autocapture, no session recording.

declare const __POSTHOG_KEY__: string;
declare const __POSTHOG_HOST__: string;

export const ANALYTICS_KEY: string = __POSTHOG_KEY__;
export const ANALYTICS_HOST: string = __POSTHOG_HOST__;

/** A SvelteKit route id as a path pattern: "/credentials/[name]" -> "/credentials/:name". */
export function routePattern(routeId: string | null): string {
	if (!routeId) return '/:not-found';
	const pattern = routeId
		.replace(/\/\([^)]*\)/g, '') // layout groups are not in the URL
		.replace(/\[\[?(?:\.\.\.)?([A-Za-z0-9_]+)(?:=[A-Za-z0-9_]+)?\]?\]/g, ':$1');
	return pattern || '/';
}

export interface PageView {
	api_key: string;
	event: '$pageview';
	distinct_id: string;
	properties: Record<string, string | boolean>;
}

/** The event sent for a page view of `routeId` on `origin`. */
export function pageView(key: string, distinctId: string, origin: string, routeId: string | null): PageView {
	const path = routePattern(routeId);
	return {
		api_key: key,
		event: '$pageview',
		distinct_id: distinctId,
		properties: {
			$current_url: origin + path,
			$pathname: path,
			$process_person_profile: false
		}
	};
}

let distinctId: string | undefined;

/** Sends a page view when analytics was built in; does nothing otherwise. */
export function trackPageView(routeId: string | null): void {
	if (!ANALYTICS_KEY) return;
	distinctId ??= crypto.randomUUID();
	const event = pageView(ANALYTICS_KEY, distinctId, location.origin, routeId);
	void fetch(`${ANALYTICS_HOST.replace(/\/+$/, '')}/i/v0/e/`, {
		method: 'POST',
		credentials: 'omit',
		keepalive: true,
		referrerPolicy: 'no-referrer',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(event)
	}).catch(() => undefined);
}
