//! The local attestation issuer, for development and tests without Confidential Space.
//!
//! It keeps a root → intermediate → leaf chain (RSA-2048) in a directory and mints tokens with
//! the Confidential Space claim shape, issuer [`LOCAL_ISSUER`], `hwmodel` [`LOCAL_HWMODEL`] and
//! `dbgstat` `enabled`. Its tokens pass the same verifier as Google's, against its own root and
//! a policy from [`crate::Policy::local`]; a production policy rejects them. It enforces the
//! real launcher's request limits, so code that works against it works against the launcher.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256,
};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::policy::{LOCAL_HWMODEL, LOCAL_ISSUER};
use crate::verify::{SWNAME, TokenType};

/// Longest audience the launcher accepts, in bytes.
pub const MAX_AUDIENCE_BYTES: usize = 512;
/// Most nonces the launcher accepts.
pub const MAX_NONCES: usize = 6;
/// Shortest nonce the launcher accepts, in bytes.
pub const MIN_NONCE_BYTES: usize = 10;
/// Longest nonce the launcher accepts, in bytes.
pub const MAX_NONCE_BYTES: usize = 74;
/// Lifetime of a minted token, as Google's (`exp` = `iat` + 3600).
pub const TOKEN_LIFETIME_SECONDS: u64 = 3600;

/// Why the issuer could not start or mint.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// Reading or writing the CA directory failed.
    #[error("local CA directory {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored key or certificate does not parse, or generating one failed.
    #[error("local CA: {0}")]
    Crypto(String),
    /// The audience is empty.
    #[error("audience must not be empty")]
    AudienceEmpty,
    /// The audience is longer than [`MAX_AUDIENCE_BYTES`].
    #[error("audience is {0} bytes, at most {MAX_AUDIENCE_BYTES} are allowed")]
    AudienceTooLong(usize),
    /// More than [`MAX_NONCES`] nonces.
    #[error("{0} nonces requested, at most {MAX_NONCES} are allowed")]
    TooManyNonces(usize),
    /// A nonce outside [`MIN_NONCE_BYTES`]..=[`MAX_NONCE_BYTES`].
    #[error(
        "nonce {index} is {len} bytes, each must be {MIN_NONCE_BYTES} to {MAX_NONCE_BYTES} bytes"
    )]
    NonceLength {
        /// Position of the nonce in the request.
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
}

/// What a token is minted for.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// `aud`.
    pub audience: String,
    /// `eat_nonce`: a string for one nonce, an array for several, as Google mints them.
    pub nonces: Vec<String>,
    /// PKI (`x5c` header) or OIDC (`kid` header, key in [`LocalIssuer::jwks_json`]).
    pub token_type: TokenType,
    /// `submods.container.image_digest`.
    pub image_digest: String,
    /// `submods.container.env`: the container's environment as Confidential Space reports it
    /// (the local enclave reports its dangerous settings here).
    pub env: std::collections::BTreeMap<String, String>,
    /// `iat` and `nbf`, Unix seconds.
    pub now: u64,
}

impl MintRequest {
    /// Checks the launcher's limits.
    pub fn validate(&self) -> Result<(), IssuerError> {
        if self.audience.is_empty() {
            return Err(IssuerError::AudienceEmpty);
        }
        if self.audience.len() > MAX_AUDIENCE_BYTES {
            return Err(IssuerError::AudienceTooLong(self.audience.len()));
        }
        if self.nonces.len() > MAX_NONCES {
            return Err(IssuerError::TooManyNonces(self.nonces.len()));
        }
        match self
            .nonces
            .iter()
            .enumerate()
            .find(|(_, n)| !(MIN_NONCE_BYTES..=MAX_NONCE_BYTES).contains(&n.len()))
        {
            Some((index, n)) => Err(IssuerError::NonceLength {
                index,
                len: n.len(),
            }),
            None => Ok(()),
        }
    }
}

/// A local CA that mints attestation tokens. See the module documentation.
pub struct LocalIssuer {
    root_pem: String,
    /// `x5c`: leaf, intermediate, root (standard base64 DER).
    x5c: [String; 3],
    leaf_key: RsaKeyPair,
    kid: String,
    jwk: serde_json::Value,
    rng: SystemRandom,
}

impl std::fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

const ROOT_CERT: &str = "root.pem";
const ROOT_KEY: &str = "root.key";
const INTERMEDIATE_CERT: &str = "intermediate.pem";
const INTERMEDIATE_KEY: &str = "intermediate.key";
const LEAF_CERT: &str = "leaf.pem";
const LEAF_KEY: &str = "leaf.key";

impl LocalIssuer {
    /// Loads the CA in `dir`, creating the directory and a new chain when it holds none.
    /// `dir/root.pem` is the trust anchor clients are pointed at.
    pub fn open(dir: &Path) -> Result<LocalIssuer, IssuerError> {
        if !dir.join(LEAF_KEY).exists() {
            create_chain(dir)?;
        }
        let read = |name: &str| {
            fs::read_to_string(dir.join(name)).map_err(|source| IssuerError::Io {
                path: dir.join(name),
                source,
            })
        };
        let root_pem = read(ROOT_CERT)?;
        let x5c = [
            der_b64(&read(LEAF_CERT)?)?,
            der_b64(&read(INTERMEDIATE_CERT)?)?,
            der_b64(&root_pem)?,
        ];
        let leaf = rsa::RsaPrivateKey::from_pkcs8_pem(&read(LEAF_KEY)?).map_err(crypto)?;
        let jwk = json!({
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(leaf.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(leaf.e().to_bytes_be()),
        });
        let kid = thumbprint(&jwk);
        let leaf_der = leaf.to_pkcs8_der().map_err(crypto)?;
        let leaf_key = RsaKeyPair::from_pkcs8(leaf_der.as_bytes())
            .map_err(|e| IssuerError::Crypto(e.to_string()))?;
        Ok(LocalIssuer {
            root_pem,
            x5c,
            leaf_key,
            kid,
            jwk,
            rng: SystemRandom::new(),
        })
    }

    /// The root certificate, PEM: the trust anchor for tokens of this issuer.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// A JWKS holding the signing key, for OIDC tokens.
    pub fn jwks_json(&self) -> String {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!("RS256");
        jwk["use"] = json!("sig");
        json!({ "keys": [jwk] }).to_string()
    }

    /// Mints a token for `req`, after checking the launcher's limits.
    pub fn mint(&self, req: &MintRequest) -> Result<String, IssuerError> {
        req.validate()?;
        let header = match req.token_type {
            TokenType::Pki => {
                json!({"alg": "RS256", "kid": self.kid, "typ": "JWT", "x5c": self.x5c})
            }
            TokenType::Oidc => json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"}),
        };
        let eat_nonce = match req.nonces.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        let claims = json!({
            "aud": req.audience,
            "iss": LOCAL_ISSUER,
            "sub": "local://aileron-enclave",
            "iat": req.now,
            "nbf": req.now,
            "exp": req.now + TOKEN_LIFETIME_SECONDS,
            "eat_nonce": eat_nonce,
            "eat_profile": "https://cloud.google.com/confidential-computing/confidential-space/docs/reference/token-claims",
            "secboot": true,
            "hwmodel": LOCAL_HWMODEL,
            "swname": SWNAME,
            "swversion": ["000000"],
            "dbgstat": "enabled",
            "submods": {
                "confidential_space": { "support_attributes": [] },
                "container": {
                    "image_reference": "local",
                    "image_digest": req.image_digest,
                    "restart_policy": "Never",
                    "env": req.env,
                },
            },
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.leaf_key.public().modulus_len()];
        self.leaf_key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|e| IssuerError::Crypto(e.to_string()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

fn crypto(e: impl std::fmt::Display) -> IssuerError {
    IssuerError::Crypto(e.to_string())
}

fn der_b64(cert_pem: &str) -> Result<String, IssuerError> {
    let block = pem::parse(cert_pem).map_err(crypto)?;
    Ok(STANDARD.encode(block.contents()))
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA key: members in lexical order.
fn thumbprint(jwk: &serde_json::Value) -> String {
    let canonical = format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, jwk["e"], jwk["n"]);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

fn create_chain(dir: &Path) -> Result<(), IssuerError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| IssuerError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let now = OffsetDateTime::now_utc();
    let (root_key, root_key_pem) = rsa_key()?;
    let (inter_key, inter_key_pem) = rsa_key()?;
    let (leaf_key, leaf_key_pem) = rsa_key()?;

    let root_params = ca_params("Aileron Local Attestation Root CA", None, now, 3650)?;
    let root = root_params.self_signed(&root_key).map_err(crypto)?;
    let root_issuer = Issuer::new(root_params, &root_key);
    let inter_params = ca_params(
        "Aileron Local Attestation Intermediate CA",
        Some(0),
        now,
        1825,
    )?;
    let inter = inter_params
        .signed_by(&inter_key, &root_issuer)
        .map_err(crypto)?;
    let inter_issuer = Issuer::new(inter_params, &inter_key);
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).map_err(crypto)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "Aileron Local Attestation Leaf");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.not_before = now - Duration::hours(1);
    leaf_params.not_after = now + Duration::days(365);
    let leaf = leaf_params
        .signed_by(&leaf_key, &inter_issuer)
        .map_err(crypto)?;

    for (name, contents, secret) in [
        (ROOT_KEY, root_key_pem, true),
        (INTERMEDIATE_KEY, inter_key_pem, true),
        (LEAF_KEY, leaf_key_pem, true),
        (INTERMEDIATE_CERT, inter.pem(), false),
        (LEAF_CERT, leaf.pem(), false),
        // Written last: its presence with the leaf key marks a complete chain.
        (ROOT_CERT, root.pem(), false),
    ] {
        write_file(&dir.join(name), contents.as_bytes(), secret).map_err(io(&dir.join(name)))?;
    }
    tracing::info!(dir = %dir.display(), "created local attestation CA");
    Ok(())
}

fn ca_params(
    cn: &str,
    path_len: Option<u8>,
    now: OffsetDateTime,
    days: i64,
) -> Result<CertificateParams, IssuerError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(crypto)?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.distinguished_name.push(
        DnType::OrganizationName,
        "Aileron local development (insecure)",
    );
    params.is_ca = IsCa::Ca(path_len.map_or(
        BasicConstraints::Unconstrained,
        BasicConstraints::Constrained,
    ));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if path_len.is_some() {
        // As Google's intermediate: the TCG attestation EKU (2.23.133.8.1).
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![2, 23, 133, 8, 1])];
    }
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
    Ok(params)
}

/// A fresh RSA-2048 key, as an rcgen key pair and as PKCS#8 PEM.
fn rsa_key() -> Result<(KeyPair, String), IssuerError> {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(crypto)?;
    let der = key.to_pkcs8_der().map_err(crypto)?;
    let pem = der
        .to_pem("PRIVATE KEY", rsa::pkcs8::LineEnding::LF)
        .map_err(crypto)?;
    let pair = KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &PKCS_RSA_SHA256)
        .map_err(crypto)?;
    Ok((pair, pem.to_string()))
}

fn write_file(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let _ = secret;
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MintRequest {
        MintRequest {
            audience: "aud".into(),
            nonces: vec!["0123456789".into()],
            token_type: TokenType::Pki,
            image_digest: format!("sha256:{}", "a".repeat(64)),
            env: Default::default(),
            now: 1_700_000_000,
        }
    }

    #[test]
    fn validate_enforces_the_launcher_limits() {
        type Case = (fn(&mut MintRequest), fn(&IssuerError) -> bool);
        let cases: [Case; 5] = [
            (
                |r| r.audience.clear(),
                |e| matches!(e, IssuerError::AudienceEmpty),
            ),
            (
                |r| r.audience = "a".repeat(513),
                |e| matches!(e, IssuerError::AudienceTooLong(513)),
            ),
            (
                |r| r.nonces = vec!["0123456789".into(); 7],
                |e| matches!(e, IssuerError::TooManyNonces(7)),
            ),
            (
                |r| r.nonces.push("short".into()),
                |e| matches!(e, IssuerError::NonceLength { index: 1, len: 5 }),
            ),
            (
                |r| r.nonces = vec!["x".repeat(75)],
                |e| matches!(e, IssuerError::NonceLength { index: 0, len: 75 }),
            ),
        ];
        for (mutate, expected) in cases {
            let mut req = request();
            mutate(&mut req);
            let err = req.validate().unwrap_err();
            assert!(expected(&err), "{err}");
        }
        let mut edge = request();
        edge.audience = "a".repeat(512);
        edge.nonces = vec![
            "x".repeat(10),
            "y".repeat(74),
            "z".repeat(10),
            "w".repeat(10),
            "v".repeat(10),
            "u".repeat(10),
        ];
        edge.validate().unwrap();
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk = json!({"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
