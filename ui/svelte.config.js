import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter(),
		// The policy's fixed part. SvelteKit adds the hash of its inline bootstrap script to
		// script-src; src/hooks.server.ts adds the parts known only at run time (the API origin
		// in connect-src and form-action) and the other security headers.
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				// 'wasm-unsafe-eval': Argon2id (hash-wasm) compiles WebAssembly. It allows compiling
				// WebAssembly only, never eval of JavaScript. The worker that runs it is a file of its own
				// (/_app/immutable/workers/…), hence worker-src 'self' and no blob:.
				'script-src': ['self', 'wasm-unsafe-eval'],
				'worker-src': ['self'],
				// 'unsafe-hashes' with one hash allows exactly one style attribute: the one
				// SvelteKit's route announcer (the screen-reader live region announcing each
				// navigation) is rendered with. No other inline style runs. The browser suite fails on
				// any CSP violation, so a SvelteKit upgrade that changes it is noticed.
				'style-src': ['self', 'unsafe-hashes', 'sha256-S8qMpvofolR8Mpjy4kQvEm7m1q8clzU4dfDH0AmvZjo='],
				'img-src': ['self', 'data:'],
				'font-src': ['self'],
				'object-src': ['none'],
				'frame-ancestors': ['none'],
				'base-uri': ['none']
			}
		}
	}
};

export default config;
