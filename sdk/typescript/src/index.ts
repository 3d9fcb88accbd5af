/**
 * Aileron for TypeScript: HTTP requests made with a credential the agent never sees.
 *
 * An agent holds an agent token (`AILERON_TOKEN`) for an Aileron server (`AILERON_SERVER`). It asks
 * the server to make a request with a named credential; a hardware-attested enclave injects the
 * secret, makes the request inside the credential's allow rules, and returns the answer with every
 * form of the secret redacted.
 *
 * What this protects: the secret never reaches this process, and requests outside the allow rules
 * are refused before anything is sent. What it does not: the agent may still make any request the
 * rules allow, and read the answers. The token is a bearer credential: the SDK never prints it, but
 * whoever holds it may use the credentials it names until it expires or is revoked.
 *
 * @module
 */

export {
  Client,
  type ClientOptions,
  type Credential,
  DEFAULT_TIMEOUT_MS,
  type FetchFunction,
  type HeadersArg,
  type JsonValue,
  type RequestOptions,
  VERSION,
} from "./client.js";
export { type CredentialFetch, type CredentialFetchOptions, credentialFetch } from "./fetch.js";
export { AileronResponse } from "./response.js";
export {
  AgentTokenNotAllowed,
  AileronError,
  type AllowRule,
  ConfigurationError,
  ConnectionFailed,
  DestinationNotAllowed,
  EscrowExpired,
  EscrowLost,
  EscrowUsedUp,
  InvalidRequest,
  NotEscrowed,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  ScopeViolation,
  Unauthorized,
  Unavailable,
  UnexpectedResponse,
  UnsupportedBody,
  UpstreamError,
  VaultLocked,
  formatRule,
} from "./errors.js";
export {
  type AllowRuleWire,
  type BrokeredRequest,
  type BrokeredResponse,
  type ClientErrorCode,
  type ErrorBody,
  type ErrorCode,
  type ErrorDetail,
  type HeaderPair,
  MAX_BODY_BYTES,
  MAX_REQUEST_BYTES,
  type ScopeCheckRequest,
  type ScopeVerdict,
  type Source,
  type UsableWire,
} from "./wire.js";
