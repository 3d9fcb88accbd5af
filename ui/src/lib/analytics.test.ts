import { describe, expect, it } from 'vitest';
import { ANALYTICS_KEY, pageView, routePattern } from './analytics';

describe('routePattern', () => {
	it.each([
		['/', '/'],
		['/credentials', '/credentials'],
		['/credentials/[name]', '/credentials/:name'],
		['/credentials/new', '/credentials/new'],
		['/(app)/things/[id=uuid]', '/things/:id'],
		['/files/[...path]', '/files/:path'],
		['/docs/[[lang]]', '/docs/:lang'],
		[null, '/:not-found']
	])('turns %j into %j', (routeId, pattern) => {
		expect(routePattern(routeId)).toBe(pattern);
	});
});

describe('pageView', () => {
	it('sends the route pattern, never the real path or its query', () => {
		const event = pageView('phc_key', 'id-1', 'https://app.example', '/credentials/[name]');
		const text = JSON.stringify(event);
		expect(event.properties.$current_url).toBe('https://app.example/credentials/:name');
		expect(event.properties.$pathname).toBe('/credentials/:name');
		expect(event.properties.$process_person_profile).toBe(false);
		expect(text).not.toContain('?');
		expect(Object.keys(event.properties).sort()).toEqual(['$current_url', '$pathname', '$process_person_profile']);
	});

	it('is off when no key was built in (the unit tests build without one)', () => {
		expect(ANALYTICS_KEY).toBe('');
	});
});
