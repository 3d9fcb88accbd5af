//! Authentication: email/password accounts, verification codes, sessions.
//!
//! Handlers call one function of [`Auth`] each; SQL lives in `db::`.

pub mod account;
pub mod email;
pub mod password;
pub mod secret;
pub mod token;

use secrecy::SecretString;

use self::email::Email;
use self::password::{Hasher, Password};
use self::secret::CodeHasher;
use self::token::TokenKeys;
use crate::clock::Clock;
use crate::db::tokens::DeadToken;
use crate::db::users::{NewUser, User};
use crate::db::{Db, codes, tokens, users};
use crate::error::Error;
use crate::ids::FamilyId;
use crate::mail::Mailer;

/// How long a verification code is valid, in seconds.
pub const CODE_TTL_SECS: i64 = 15 * 60;
/// Wrong attempts after which a code is void.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// A signed-in session handed to the client.
pub struct Session {
    pub access_token: String,
    pub access_expires_in: i64,
    pub refresh_token: SecretString,
    pub refresh_expires_in: i64,
}

/// The authentication service.
pub struct Auth {
    pub db: Db,
    pub hasher: Hasher,
    pub keys: TokenKeys,
    pub codes: CodeHasher,
    pub mailer: Mailer,
    pub clock: Clock,
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    pub auto_verify: bool,
}

impl Auth {
    /// Registers an account. The answer is the same whether or not the address was taken.
    pub async fn signup(
        &self,
        email: Email,
        password: Password,
        display_name: Option<&str>,
    ) -> Result<(), Error> {
        // Hash first, in both cases, so that a taken address costs the same time.
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let mut tx = self.db.pool.begin().await?;
        let new = NewUser {
            email: email.as_str(),
            email_verified: self.auto_verify,
            password_hash: Some(&hash),
            display_name,
        };
        let Some(user) = account::create(&mut tx, &email, new, now).await? else {
            tracing::info!("signup for an address that is already registered");
            return Ok(());
        };
        tx.commit().await?;
        if !self.auto_verify {
            self.send_code(&user).await?;
        }
        Ok(())
    }

    async fn send_code(&self, user: &User) -> Result<(), Error> {
        let code = secret::new_code();
        let hash = self.codes.hash(
            user.id.as_str(),
            secrecy::ExposeSecret::expose_secret(&code),
        );
        let now = self.clock.now();
        codes::put(
            &self.db.pool,
            &user.id,
            &hash,
            now + CODE_TTL_SECS,
            now,
            CODE_TTL_SECS,
        )
        .await?;
        self.mailer.send_code(user.email.clone(), code);
        Ok(())
    }

    /// Sends a new code to an unverified account; silent otherwise.
    pub async fn resend(&self, email: Email) -> Result<(), Error> {
        match users::by_email(&self.db.pool, email.as_str()).await? {
            Some(user) if !user.email_verified => self.send_code(&user).await,
            _ => Ok(()),
        }
    }

    /// Checks a code; on success the email is verified and a session opened. Every failure
    /// (unknown address, no pending code, wrong, expired, too many tries) is the same
    /// `invalid_code`, so the answer does not tell which addresses have pending accounts.
    pub async fn verify_email(&self, email: Email, code: &str) -> Result<(User, Session), Error> {
        let user = users::by_email(&self.db.pool, email.as_str())
            .await?
            .ok_or(Error::InvalidCode)?;
        let now = self.clock.now();
        // The attempt is counted before the comparison, in one statement.
        let stored = codes::take_attempt(&self.db.pool, &user.id, MAX_CODE_ATTEMPTS, now)
            .await?
            .ok_or(Error::InvalidCode)?;
        let presented = self.codes.hash(user.id.as_str(), code.trim());
        if !secret::same(&presented, &stored) {
            return Err(Error::InvalidCode);
        }
        let mut tx = self.db.pool.begin().await?;
        if !codes::consume(&mut *tx, &user.id, &stored).await? {
            return Err(Error::InvalidCode);
        }
        users::mark_verified(&mut *tx, &user.id).await?;
        tx.commit().await?;
        let session = self.open_session(&user).await?;
        Ok((user, session))
    }

    /// Signs in with a password. Unknown address and wrong password answer alike.
    pub async fn login(
        &self,
        email: Email,
        password: SecretString,
    ) -> Result<(User, Session), Error> {
        let user = users::by_email(&self.db.pool, email.as_str()).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self.hasher.verify(password, stored).await?;
        let user = match user {
            Some(user) if ok => user,
            _ => return Err(Error::InvalidCredentials),
        };
        check_may_sign_in(&user)?;
        let session = self.open_session(&user).await?;
        Ok((user, session))
    }

    /// Opens a session: a new refresh-token family and an access token.
    pub async fn open_session(&self, user: &User) -> Result<Session, Error> {
        self.session_in_family(user, &FamilyId::random()).await
    }

    async fn session_in_family(&self, user: &User, family: &FamilyId) -> Result<Session, Error> {
        let now = self.clock.now();
        let refresh = secret::new_refresh_token();
        let hash = secret::token_hash(&refresh);
        tokens::insert(
            &self.db.pool,
            &hash,
            family,
            &user.id,
            now + self.refresh_ttl,
            now,
        )
        .await?;
        self.session_with(user, family, refresh, now)
    }

    /// A session around an already stored refresh token.
    fn session_with(
        &self,
        user: &User,
        family: &FamilyId,
        refresh: SecretString,
        now: i64,
    ) -> Result<Session, Error> {
        let access = self
            .keys
            .issue(
                &user.id,
                &user.enterprise_id,
                user.role,
                family,
                now,
                self.access_ttl,
            )
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Session {
            access_token: access,
            access_expires_in: self.access_ttl,
            refresh_token: refresh,
            refresh_expires_in: self.refresh_ttl,
        })
    }

    /// Rotates a refresh token. Presenting a rotated-out token revokes its whole family.
    pub async fn refresh(&self, token: &SecretString) -> Result<Session, Error> {
        let hash = secret::token_hash(token);
        let now = self.clock.now();
        if self.db.backend == crate::db::Backend::Postgres {
            return self.refresh_in_one_statement(&hash, now).await;
        }
        // SQLite: rotation, the owner and the successor in one transaction. SQLite serialises
        // writers, so a concurrent refresh of the same token waits for this commit and then finds
        // the token rotated: the reuse it reports revokes the successor too.
        let mut tx = self.db.pool.begin().await?;
        let Some((family, user_id)) = tokens::take_live(&mut *tx, &hash, now).await? else {
            drop(tx);
            return Err(self.refused_refresh(&hash, now).await?);
        };
        let user = users::by_id(&mut *tx, &user_id)
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        if let Err(e) = check_may_sign_in(&user) {
            tokens::revoke_family(&mut *tx, &family, now).await?;
            tx.commit().await?;
            return Err(e);
        }
        let refresh = secret::new_refresh_token();
        let successor = secret::token_hash(&refresh);
        tokens::insert(
            &mut *tx,
            &successor,
            &family,
            &user.id,
            now + self.refresh_ttl,
            now,
        )
        .await?;
        tx.commit().await?;
        self.session_with(&user, &family, refresh, now)
    }

    /// The PostgreSQL path of [`Auth::refresh`]: rotation, successor and owner in one round trip.
    async fn refresh_in_one_statement(&self, hash: &str, now: i64) -> Result<Session, Error> {
        let refresh = secret::new_refresh_token();
        let successor = secret::token_hash(&refresh);
        let rotated =
            tokens::rotate_with_user(&self.db.pool, hash, &successor, now, now + self.refresh_ttl)
                .await?;
        let Some((family, user)) = rotated else {
            return Err(self.refused_refresh(hash, now).await?);
        };
        if let Err(e) = check_may_sign_in(&user) {
            // Revokes the successor just stored with the rest of the family.
            tokens::revoke_family(&self.db.pool, &family, now).await?;
            return Err(e);
        }
        self.session_with(&user, &family, refresh, now)
    }

    async fn refused_refresh(&self, hash: &str, now: i64) -> Result<Error, Error> {
        Ok(match tokens::why_dead(&self.db.pool, hash).await? {
            DeadToken::Rotated(family) => {
                let revoked = tokens::revoke_family(&self.db.pool, &family, now).await?;
                tracing::warn!(family = %family, revoked, "refresh token reuse: family revoked");
                Error::RefreshTokenReused
            }
            DeadToken::Unknown | DeadToken::Revoked | DeadToken::Expired => {
                Error::InvalidRefreshToken
            }
        })
    }

    /// Ends the session the refresh token belongs to.
    pub async fn logout(&self, token: &SecretString) -> Result<(), Error> {
        let hash = secret::token_hash(token);
        if let Some(family) = tokens::family_of(&self.db.pool, &hash).await? {
            tokens::revoke_family(&self.db.pool, &family, self.clock.now()).await?;
        }
        Ok(())
    }
}

fn check_may_sign_in(user: &User) -> Result<(), Error> {
    if user.suspended {
        Err(Error::AccountSuspended)
    } else if !user.email_verified {
        Err(Error::EmailNotVerified)
    } else {
        Ok(())
    }
}
