// Security headers on every answer of the UI server (see docs/ui.md).
import type { Handle } from '@sveltejs/kit';
import { env } from '$env/dynamic/public';
import { ANALYTICS_HOST, ANALYTICS_KEY } from '$lib/analytics';
import { DEFAULT_API_BASE } from '$lib/config';
import { applySecurityHeaders, originOf, type Origins } from '$lib/server/headers';

let origins: Origins | undefined;

/** Read once, at the first request (PUBLIC_API_BASE is a run-time setting). */
function runtimeOrigins(): Origins {
	origins ??= {
		api: originOf('PUBLIC_API_BASE', env.PUBLIC_API_BASE || DEFAULT_API_BASE),
		analytics: ANALYTICS_KEY ? originOf('PUBLIC_POSTHOG_HOST', ANALYTICS_HOST) : undefined
	};
	return origins;
}

export const handle: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	applySecurityHeaders(response.headers, runtimeOrigins());
	return response;
};
