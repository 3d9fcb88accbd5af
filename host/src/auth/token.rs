//! HS256 access tokens. The algorithm is pinned by our key, never read from the header.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::SigningKey;
use crate::ids::{EnterpriseId, FamilyId, Role, UserId};

/// The `aud` of every access token.
pub const AUDIENCE: &str = "aileron-api";
/// Clock skew tolerated on `exp`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// The claims we issue.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub ent_id: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// The session (refresh-token family) the token belongs to: when the session ends (logout,
    /// reuse of a rotated refresh token), its access tokens end with it.
    pub sid: String,
}

/// Why an access token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid")]
    Invalid,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

impl TokenKeys {
    /// Keys for `issuer`.
    pub fn new(key: &SigningKey, issuer: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(key.expose()),
            decoding: DecodingKey::from_secret(key.expose()),
            validation,
            issuer: issuer.to_owned(),
        }
    }

    /// A signed token for a user's session, valid `ttl_secs` from `now`.
    pub fn issue(
        &self,
        user: &UserId,
        enterprise: &EnterpriseId,
        role: Role,
        session: &FamilyId,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user.0.clone(),
            ent_id: enterprise.0.clone(),
            role,
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session.as_str().to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SigningKey::new(vec![7; 32]), "aileron")
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn ids() -> (UserId, EnterpriseId) {
        (UserId("u1".into()), EnterpriseId("e1".into()))
    }

    fn forge(header: &str, claims: serde_json::Value, alg: Algorithm, key: &[u8]) -> String {
        let _ = header;
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key)).unwrap()
    }

    fn claims(aud: &str, exp: i64) -> serde_json::Value {
        serde_json::json!({"sub":"u1","ent_id":"e1","role":"owner","iss":"aileron","aud":aud,"iat":now(),"nbf":now(),"exp":exp,"jti":"j","sid":"s"})
    }

    fn session() -> FamilyId {
        FamilyId("s1".into())
    }

    #[test]
    fn verify_accepts_a_token_it_issued() {
        let (u, e) = ids();
        let t = keys()
            .issue(&u, &e, Role::Owner, &session(), now(), 60)
            .unwrap();
        let claims = keys().verify(&t).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("u1", "s1"));
    }

    #[test]
    fn verify_rejects_a_token_not_yet_valid() {
        let mut c = claims(AUDIENCE, now() + 600);
        c["nbf"] = (now() + 300).into();
        let t = forge("", c, Algorithm::HS256, &[7; 32]);
        assert!(matches!(keys().verify(&t), Err(TokenError::Invalid)));
    }

    #[test]
    fn verify_rejects_a_token_without_nbf_or_sid() {
        for missing in ["nbf", "sid"] {
            let mut c = claims(AUDIENCE, now() + 60);
            c.as_object_mut().unwrap().remove(missing);
            let t = forge("", c, Algorithm::HS256, &[7; 32]);
            assert!(
                matches!(keys().verify(&t), Err(TokenError::Invalid)),
                "{missing}"
            );
        }
    }

    #[test]
    fn verify_rejects_alg_none() {
        let body = URL_SAFE_NO_PAD.encode(claims(AUDIENCE, now() + 60).to_string());
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(matches!(
            keys().verify(&format!("{head}.{body}.")),
            Err(TokenError::Invalid)
        ));
    }

    #[test]
    fn verify_rejects_hs512_with_the_right_key() {
        let t = forge("", claims(AUDIENCE, now() + 60), Algorithm::HS512, &[7; 32]);
        assert!(matches!(keys().verify(&t), Err(TokenError::Invalid)));
    }

    #[test]
    fn verify_rejects_an_expired_token() {
        let t = forge("", claims(AUDIENCE, now() - 60), Algorithm::HS256, &[7; 32]);
        assert!(matches!(keys().verify(&t), Err(TokenError::Expired)));
    }

    #[test]
    fn verify_rejects_a_wrong_audience() {
        let t = forge(
            "",
            claims("someone-else", now() + 60),
            Algorithm::HS256,
            &[7; 32],
        );
        assert!(matches!(keys().verify(&t), Err(TokenError::Invalid)));
    }

    #[test]
    fn verify_rejects_a_wrong_issuer() {
        let mut c = claims(AUDIENCE, now() + 60);
        c["iss"] = "evil".into();
        let t = forge("", c, Algorithm::HS256, &[7; 32]);
        assert!(matches!(keys().verify(&t), Err(TokenError::Invalid)));
    }

    #[test]
    fn verify_rejects_another_key() {
        let t = forge("", claims(AUDIENCE, now() + 60), Algorithm::HS256, &[8; 32]);
        assert!(matches!(keys().verify(&t), Err(TokenError::Invalid)));
    }
}
