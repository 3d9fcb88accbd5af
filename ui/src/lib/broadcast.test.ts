import { describe, expect, it } from 'vitest';
import { parseMessage } from './broadcast';

describe('parseMessage', () => {
	it('reads the messages tabs send', () => {
		expect(parseMessage({ type: 'signed-out' })).toEqual({ type: 'signed-out' });
		expect(parseMessage({ type: 'vault', state: 'locked' })).toEqual({ type: 'vault', state: 'locked' });
	});

	it.each([null, 'signed-out', { type: 'vault' }, { type: 'vault', state: 1 }, { type: 'other' }])('ignores %j', (data) => {
		expect(parseMessage(data)).toBeUndefined();
	});
});
