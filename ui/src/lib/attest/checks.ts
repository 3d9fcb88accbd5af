/**
 * The checks, by their stable names and in the order the Rust verifier runs them
 * (attest/src/report.rs `Check::ALL`). The first failing one is the verdict.
 */
export const CHECKS = [
  'size',
  'format',
  'header',
  'algorithm',
  'key',
  'chain',
  'signature',
  'claims',
  'issuer',
  'audience',
  'expiry',
  'not_before',
  'issued_at',
  'nonce',
  'swname',
  'secboot',
  'dbgstat',
  'hwmodel',
  'image_digest',
  'project_id',
  'support_attributes',
  'environment',
] as const;

/** One check's name. */
export type Check = (typeof CHECKS)[number];

/** A failed check with a sentence a page can show. */
export interface Failure {
  readonly ok: false;
  readonly check: Check;
  readonly detail: string;
}

/** Raised inside the verifier to stop at the first failed check. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';

  constructor(
    readonly check: Check,
    readonly detail: string,
  ) {
    super(`${check}: ${detail}`);
  }

  toFailure(): Failure {
    return { ok: false, check: this.check, detail: this.detail };
  }
}

/** Fails `check` with `detail`. */
export function fail(check: Check, detail: string): never {
  throw new CheckFailed(check, detail);
}
