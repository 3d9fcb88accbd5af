import { VaultError, type VaultErrorCode } from '../errors';

/** The code of the VaultError that `run` throws or rejects with, or 'no error'. */
export async function refusal(run: Promise<unknown> | (() => unknown)): Promise<VaultErrorCode | 'no error'> {
	try {
		await (typeof run === 'function' ? run() : run);
	} catch (error) {
		if (error instanceof VaultError) return error.code;
		throw error;
	}
	return 'no error';
}
