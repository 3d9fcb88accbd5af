// One error type for every failed call: the server's stable code, its message for people, and
// the request id to quote when reporting a failure (docs/errors.md).

/** Codes the client makes itself; every other code comes from the server's error body. */
export const NETWORK = 'network';
export const BAD_RESPONSE = 'bad_response';

export class ApiError extends Error {
	readonly status: number;
	readonly code: string;
	readonly requestId: string | undefined;
	/** Seconds from a Retry-After header (429), when the server sent one. */
	readonly retryAfter: number | undefined;

	constructor(init: {
		status: number;
		code: string;
		message: string;
		requestId?: string;
		retryAfter?: number;
	}) {
		super(init.message);
		this.name = 'ApiError';
		this.status = init.status;
		this.code = init.code;
		this.requestId = init.requestId;
		this.retryAfter = init.retryAfter;
	}
}

/** The failure of a fetch that never got an answer (offline, refused, blocked by CORS). */
export function networkError(cause: unknown): ApiError {
	const detail = cause instanceof Error ? cause.message : String(cause);
	return new ApiError({ status: 0, code: NETWORK, message: detail });
}

/** Reads an error answer. A body that is not the documented shape still gives an ApiError. */
export async function errorFrom(response: Response): Promise<ApiError> {
	const headerId = response.headers.get('x-request-id') ?? undefined;
	const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
	const detail = errorDetail(await response.text().catch(() => ''));
	return new ApiError({
		status: response.status,
		code: detail?.code ?? BAD_RESPONSE,
		message: detail?.message ?? `The server answered ${response.status}.`,
		requestId: detail?.requestId ?? headerId,
		retryAfter
	});
}

type Detail = { code: string; message: string; requestId: string | undefined };

function errorDetail(text: string): Detail | undefined {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		return undefined;
	}
	const error = isObject(body) ? body.error : undefined;
	if (!isObject(error) || typeof error.code !== 'string' || typeof error.message !== 'string') {
		return undefined;
	}
	const requestId = typeof error.request_id === 'string' ? error.request_id : undefined;
	return { code: error.code, message: error.message, requestId };
}

/** Retry-After in seconds; the HTTP-date form is not used by Aileron and is ignored. */
export function parseRetryAfter(value: string | null): number | undefined {
	if (value === null || !/^\d{1,6}$/.test(value.trim())) return undefined;
	return Number(value.trim());
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null;
}
