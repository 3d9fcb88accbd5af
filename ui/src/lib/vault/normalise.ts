// docs/vault.md, "1. Passphrase → KEK": the passphrase is normalised to Unicode NFC and encoded
// as UTF-8 before Argon2id, so "é" typed as one code point or as "e" + U+0301 opens the same
// vault on every keyboard and platform. The format sets no length rule (the CLI refuses weak
// passphrases when one is chosen; that is a policy of creation, not of the format).

import { utf8, type Bytes } from './bytes';

/**
 * The bytes Argon2id stretches: UTF-8 of NFC(passphrase). Wipe them when done; the string
 * itself cannot be wiped (JavaScript strings are immutable), so keep it short-lived.
 */
export function normalisePassphrase(passphrase: string): Bytes {
	return utf8(passphrase.normalize('NFC'), 'the passphrase');
}
