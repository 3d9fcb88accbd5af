/**
 * Aileron's browser verifier of Google Confidential Space attestation tokens: the same checks,
 * in the same order and with the same verdicts as the Rust verifier (attest/), so a page can check
 * an enclave's attestation itself before sealing a secret to it. See docs/attestation.md.
 */
export { CHECKS, type Check, type Failure } from './checks.js';
export type { Claims, Submods, Container, Gce, ConfidentialSpace } from './claims.js';
export { parsePolicy, PolicyError, type Policy, GOOGLE_ISSUER, LOCAL_ISSUER } from './policy.js';
export { trustAnchorFromPem, AnchorError, type TrustAnchor, GOOGLE_ROOT_SHA256 } from './pki.js';
export { googleTrustAnchor } from './google-root.js';
export { verify, type Verdict, type Verified } from './verify.js';
export { checkAttestation, computeBinding, freshNonce, validNonce, type Attested, type Refused } from './attestation.js';
