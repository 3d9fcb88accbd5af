// Sentences for people, by stable error code (docs/errors.md). The server's own message is the
// fallback: it is written for people too, only less tailored to the UI.
import { ApiError, BAD_RESPONSE, NETWORK } from './errors';

const SENTENCES: Record<string, string> = {
	[NETWORK]: 'The Aileron server cannot be reached. Check your connection and try again.',
	[BAD_RESPONSE]: 'The server sent an unexpected answer. Try again in a moment.',
	invalid_request: 'Some of the information is not valid. Check the fields and try again.',
	not_found: 'This item does not exist, or it is not yours.',
	rate_limited: 'Too many attempts. Wait a little and try again.',
	internal: 'Something went wrong on the server. Try again; if it keeps failing, report the request id.',
	invalid_email: 'That email address is not valid.',
	invalid_password: 'A password must be 8 to 1024 characters.',
	invalid_credentials: 'The email or password is wrong.',
	email_not_verified: 'Your email address is not verified yet: enter the code we sent you.',
	account_suspended: 'This account is suspended. Contact your administrator.',
	invalid_code: 'That code is not valid. Check it, or ask for a new one.',
	unauthenticated: 'You are signed out. Sign in again.',
	token_expired: 'Your session has expired. Sign in again.',
	invalid_token: 'Your session has ended. Sign in again.',
	invalid_refresh_token: 'Your session has ended. Sign in again.',
	refresh_token_reused: 'Your session was ended for safety. Sign in again.',
	forbidden: 'Your role does not allow this.',
	origin_not_allowed:
		'The server does not accept changes from this address. Set AILERON_UI_REDIRECT_URL (or AILERON_CORS_ORIGINS) on the server to this UI’s address.',
	auth_disabled: 'Authentication is off on this server.',
	provider_not_configured: 'This sign-in provider is not configured on the server.',
	oauth_state_mismatch: 'The sign-in attempt expired or was not valid. Try again.',
	oauth_email_not_verified: 'The identity provider has not confirmed your email address.',
	oauth_failed: 'The identity provider refused the sign-in. Try again.',
	last_sign_in_method: 'This is your last way to sign in, so it cannot be removed.',
	database_unavailable: 'The server’s database cannot be reached. Try again in a moment.',
	already_exists: 'Something with this name already exists. Choose another name.',
	quota_exceeded: 'You have reached the limit for this kind of item.',
	vault_not_set: 'There is no vault yet. Set a passphrase on the Vault page (or with the CLI: aileron vault set).',
	vault_locked: 'The vault is locked. Unlock it on the Vault page (or with the CLI: aileron vault unlock).',
	invalid_verifier: 'The server refused the proof of the vault key: the vault changed since this page opened it. Reload and try again.',
	server_trust_disabled: 'This server has an enclave: it never takes the credential key.',
	escrow_lost: 'The enclave restarted and lost this escrow. Unlock the vault again.',
	tee_disabled: 'No enclave is configured on this server.',
	enclave_unavailable: 'The enclave cannot be reached or does not attest right now.',
	invalid_scope: 'The rules are not valid: check the methods and URL prefixes.',
	scope_violation: 'This request is outside the credential’s rules.'
};

/** The sentence for an error of any kind. */
export function friendlyMessage(error: unknown): string {
	if (!(error instanceof ApiError)) return 'Something went wrong in this page. Reload and try again.';
	return SENTENCES[error.code] ?? (error.message || SENTENCES.internal!);
}

const OAUTH_SENTENCES: Record<string, string> = {
	oauth_failed: SENTENCES.oauth_failed!,
	oauth_state_mismatch: SENTENCES.oauth_state_mismatch!,
	oauth_email_not_verified: SENTENCES.oauth_email_not_verified!,
	email_not_verified: SENTENCES.oauth_email_not_verified!,
	account_suspended: SENTENCES.account_suspended!,
	provider_not_configured: SENTENCES.provider_not_configured!
};

/** The sentence for `?oauth_error=<code>` on the sign-in page; never echoes the code itself. */
export function oauthMessage(code: string): string {
	return (
		OAUTH_SENTENCES[code] ?? 'Signing in with the identity provider did not work. Try again.'
	);
}
