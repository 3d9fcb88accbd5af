//! # aileron-sdk
//!
//! The client side of Aileron's enclave protocol ([`wire`]): attest an enclave with
//! [`aileron_attest`], pin TLS to the attested key ([`tls_pin`]), seal credentials to it with
//! HPKE ([`seal`]), escrow them, make brokered requests, revoke. [`Client`] does all of it
//! straight to an enclave; [`HostClient`] does it through an Aileron host server (the host relays
//! the attestation, this side verifies it and seals), and uses the host's vault credentials.
//!
//! Nothing is sent to an enclave before its token verified against the caller's policy with the
//! caller's fresh nonce and the binding of the enclave's boot, HPKE key and TLS key.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod admission;
mod attestation;
mod client;
mod error;
mod host;
pub mod seal;
pub mod tls_pin;
pub mod vault;
pub mod wire;

pub use client::{Attested, Client, Escrow, TicketSource};
pub use error::Error;
pub use host::{HostClient, HostEscrow, RelayedAttestation, ScopeVerdict, Session, Usable};
