//! Test certificate chains and attestation tokens.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256,
};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RsaKeyPair};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// The issuer name Google's tokens carry.
pub const GOOGLE_ISSUER: &str = "https://confidentialcomputing.googleapis.com";

/// A throwaway RSA key, generated once per test process and shared (key generation is slow).
struct TestKey {
    pkcs8: Vec<u8>,
    n: Vec<u8>,
    e: Vec<u8>,
    public_pkcs1: Vec<u8>,
}

fn key(slot: usize) -> &'static TestKey {
    static POOL: [OnceLock<TestKey>; 7] = [const { OnceLock::new() }; 7];
    // Slot 6 is a deliberately weak 1024-bit key.
    let bits = if slot == 6 { 1024 } else { 2048 };
    POOL[slot].get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("rsa keygen");
        let public_pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&key.to_public_key())
            .expect("pkcs1")
            .as_bytes()
            .to_vec();
        TestKey {
            pkcs8: key.to_pkcs8_der().expect("pkcs8").as_bytes().to_vec(),
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
            public_pkcs1,
        }
    })
}

fn rcgen_key(slot: usize) -> KeyPair {
    KeyPair::from_pkcs8_der_and_sign_algo(&key(slot).pkcs8.as_slice().into(), &PKCS_RSA_SHA256)
        .expect("rcgen key")
}

/// What to get wrong in a test chain. `Default` is a correct chain shaped like Google's.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// Subject CN of the root (a look-alike uses the real one's name with another key).
    pub root_cn: String,
    /// Key slot of the root (0..=5).
    pub root_key: usize,
    /// Whether the intermediate has basicConstraints CA:TRUE.
    pub intermediate_is_ca: bool,
    /// Leaf validity relative to now (seconds): not_before offset, not_after offset.
    pub leaf_validity: (i64, i64),
    /// Use the weak 1024-bit key for the leaf.
    pub weak_leaf_key: bool,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            root_cn: "Test Confidential Space Root CA".into(),
            root_key: 0,
            intermediate_is_ca: true,
            leaf_validity: (-3600, 60 * 86400),
            weak_leaf_key: false,
        }
    }
}

/// A root → intermediate → leaf chain and the leaf's signing key.
pub struct TestCa {
    root: Certificate,
    intermediate: Certificate,
    leaf: Certificate,
    leaf_slot: usize,
}

fn ca_params(cn: &str, is_ca: IsCa) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Google LLC");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = if matches!(is_ca, IsCa::Ca(_)) {
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]
    } else {
        Vec::new()
    };
    params.is_ca = is_ca;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(3650);
    params
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

impl TestCa {
    /// A correct chain.
    pub fn new() -> TestCa {
        TestCa::with(ChainOptions::default())
    }

    /// A chain built as `options` say.
    pub fn with(options: ChainOptions) -> TestCa {
        let root_key = rcgen_key(options.root_key);
        let root_params = ca_params(&options.root_cn, IsCa::Ca(BasicConstraints::Unconstrained));
        let root = root_params.self_signed(&root_key).expect("root");
        let root_issuer = Issuer::new(root_params, &root_key);

        let inter_key = rcgen_key(1);
        let inter_ca = if options.intermediate_is_ca {
            IsCa::Ca(BasicConstraints::Constrained(0))
        } else {
            IsCa::ExplicitNoCa
        };
        let inter_params = ca_params("Test Confidential Space Intermediate CA", inter_ca);
        let intermediate = inter_params
            .signed_by(&inter_key, &root_issuer)
            .expect("intermediate");
        let inter_issuer = Issuer::new(inter_params, &inter_key);

        let leaf_slot = if options.weak_leaf_key { 6 } else { 2 };
        let mut leaf_params = ca_params("Test Confidential Space Leaf", IsCa::ExplicitNoCa);
        let now = OffsetDateTime::now_utc();
        leaf_params.not_before = now + Duration::seconds(options.leaf_validity.0);
        leaf_params.not_after = now + Duration::seconds(options.leaf_validity.1);
        // ring refuses keys under 2048 bits even as a certificate's subject, so the leaf's public
        // key is handed to rcgen as plain PKCS#1 bytes.
        let leaf_public = RsaPublic(key(leaf_slot).public_pkcs1.clone());
        let leaf = leaf_params
            .signed_by(&leaf_public, &inter_issuer)
            .expect("leaf");
        TestCa {
            root,
            intermediate,
            leaf,
            leaf_slot,
        }
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// `x5c` as Google sends it: leaf, intermediate, root, standard base64.
    pub fn x5c(&self) -> Vec<String> {
        [&self.leaf, &self.intermediate, &self.root]
            .iter()
            .map(|c| STANDARD.encode(c.der()))
            .collect()
    }

    /// The leaf key's RFC 7638 thumbprint, used as `kid`.
    pub fn kid(&self) -> String {
        let k = key(self.leaf_slot);
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&k.e),
            URL_SAFE_NO_PAD.encode(&k.n)
        );
        URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ))
    }

    /// A JWKS holding the leaf key under [`TestCa::kid`].
    pub fn jwks_json(&self) -> String {
        let k = key(self.leaf_slot);
        json!({"keys": [{"kty": "RSA", "kid": self.kid(), "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&k.n), "e": URL_SAFE_NO_PAD.encode(&k.e)}]})
        .to_string()
    }

    /// The leaf's public key, PKCS#1 DER (what an HS256-confusion attacker would use as secret).
    pub fn leaf_public_pkcs1(&self) -> &'static [u8] {
        &key(self.leaf_slot).public_pkcs1
    }

    /// The default PKI header for this chain.
    pub fn pki_header(&self) -> Value {
        json!({"alg": "RS256", "kid": self.kid(), "typ": "JWT", "x5c": self.x5c()})
    }

    /// The default OIDC header.
    pub fn oidc_header(&self) -> Value {
        json!({"alg": "RS256", "kid": self.kid(), "typ": "JWT"})
    }

    /// Signs `header.claims` with the leaf key, using the RSA hash the header's `alg` names
    /// (RS256 unless it says RS384/RS512), so wrong-algorithm tokens carry valid signatures.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_raw(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// As [`TestCa::sign`] with the header and claims given as exact bytes (duplicate keys,
    /// odd whitespace).
    pub fn sign_raw(&self, header: &[u8], claims: &[u8]) -> String {
        let alg = serde_json::from_slice::<Value>(header)
            .ok()
            .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        let padding = match alg.as_str() {
            "RS384" => &RSA_PKCS1_SHA384,
            "RS512" => &RSA_PKCS1_SHA512,
            _ => &RSA_PKCS1_SHA256,
        };
        let input = format!("{}.{}", b64url(header), b64url(claims));
        let sig = match RsaKeyPair::from_pkcs8(&key(self.leaf_slot).pkcs8) {
            Ok(pair) => {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &SystemRandom::new(), input.as_bytes(), &mut sig)
                    .expect("sign");
                sig
            }
            // ring will not sign with a weak key: the RustCrypto implementation will.
            Err(_) => {
                use rsa::pkcs8::DecodePrivateKey as _;
                use sha2::Digest as _;
                let private =
                    rsa::RsaPrivateKey::from_pkcs8_der(&key(self.leaf_slot).pkcs8).expect("key");
                let digest = sha2::Sha256::digest(input.as_bytes());
                private
                    .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
                    .expect("sign")
            }
        };
        format!("{input}.{}", b64url(&sig))
    }
}

/// An RSA public key (PKCS#1 DER) as rcgen's certificate subject key.
struct RsaPublic(Vec<u8>);

impl rcgen::PublicKeyData for RsaPublic {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &PKCS_RSA_SHA256
    }
}

/// Unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An HS256 token keyed with `secret` (the classic RS256→HS256 confusion attack).
pub fn sign_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    format!(
        "{input}.{}",
        b64url(ring::hmac::sign(&key, input.as_bytes()).as_ref())
    )
}

/// A digest for tests: `sha256:` and 64 hex digits made of `c`.
pub fn test_digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// Claims shaped like Google's production tokens (the TDX vector), issued at `now`.
pub fn google_shaped_claims(now: u64, audience: &str, nonces: &[&str]) -> Value {
    let eat_nonce = match nonces {
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "aud": audience,
        "exp": now + 3600,
        "iat": now,
        "iss": GOOGLE_ISSUER,
        "nbf": now,
        "sub": "https://www.googleapis.com/compute/v1/projects/test-project/zones/us-west1-b/instances/test",
        "eat_nonce": eat_nonce,
        "secboot": true,
        "oemid": 11129,
        "hwmodel": "GCP_INTEL_TDX",
        "swname": "CONFIDENTIAL_SPACE",
        "swversion": ["250800"],
        "dbgstat": "disabled-since-boot",
        "submods": {
            "confidential_space": {"support_attributes": ["LATEST", "STABLE", "USABLE"]},
            "container": {"image_digest": test_digest('a'), "image_reference": "test", "restart_policy": "Never"},
            "gce": {"zone": "us-west1-b", "project_id": "test-project", "project_number": "1", "instance_name": "test", "instance_id": "1"}
        }
    })
}
