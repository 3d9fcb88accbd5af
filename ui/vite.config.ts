import { sveltekit } from '@sveltejs/kit/vite';
import { loadEnv } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig(({ mode }) => {
	// Analytics is decided at BUILD time: with no key, src/lib/analytics.ts sends nothing.
	const env = { ...loadEnv(mode, process.cwd(), 'PUBLIC_POSTHOG_'), ...process.env };
	return {
		plugins: [sveltekit()],
		define: {
			__POSTHOG_KEY__: JSON.stringify(env.PUBLIC_POSTHOG_KEY ?? ''),
			__POSTHOG_HOST__: JSON.stringify(env.PUBLIC_POSTHOG_HOST || 'https://us.i.posthog.com')
		},
		server: { port: 3000, strictPort: true },
		preview: { port: 3000, strictPort: true },
		test: {
			include: ['src/**/*.test.ts'],
			environment: 'node'
		}
	};
});
