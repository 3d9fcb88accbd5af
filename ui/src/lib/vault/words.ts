// Sentences for the vault pages: a failure of the vault code, an attestation refused, or a call.
import { friendlyMessage } from '$lib/api/messages';
import { UnlockCancelled } from '$lib/api/unlock';
import { AttestationRefused } from './enclave';
import { isVaultError } from './errors';
import type { UnlockReport } from './flows';
import { plural, formatTime } from '$lib/format';

export const WRONG_PASSPHRASE = 'That passphrase does not open this vault.';

/** The sentence for an error of a vault flow. */
export function vaultMessage(error: unknown): string {
	if (error instanceof AttestationRefused) return sentence(error.message);
	if (error instanceof UnlockCancelled) return 'The vault was not unlocked, so nothing was done.';
	if (isVaultError(error, 'wrong_passphrase')) return WRONG_PASSPHRASE;
	if (isVaultError(error, 'kdf_params_out_of_bounds')) {
		return `The server asks for key-derivation settings this page refuses: ${error.message}.`;
	}
	if (isVaultError(error, 'credential_tampered')) return `A credential was altered by the server: ${error.message}.`;
	if (isVaultError(error, 'invalid_secret')) return `That secret cannot be stored: ${error.message}.`;
	if (isVaultError(error, 'kdf_failed')) return 'Deriving the key failed in this browser. Reload the page and try again.';
	if (isVaultError(error)) return `The vault's data cannot be read: ${error.message}.`;
	return friendlyMessage(error);
}

function sentence(text: string): string {
	return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** "Unlocked: 2 credentials escrowed, until …" or the server-trust equivalent. */
export function unlockSummary(report: UnlockReport): string {
	const until = formatTime(report.until);
	if (report.trust === 'server') return `Unlocked: the server holds the credential key until ${until}.`;
	return `Unlocked: ${plural(report.escrowed, 'credential', 'credentials')} escrowed, until ${until}.`;
}
