//! Newtypes for identifiers, so a user id cannot be passed where an enterprise id is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh random id.
            pub fn random() -> Self {
                Self(Uuid::new_v4().to_string())
            }
            /// The id as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user.
    UserId
);
id_type!(
    /// An enterprise (the account that owns users).
    EnterpriseId
);
id_type!(
    /// A refresh-token family: every token rotated from one sign-in.
    FamilyId
);

/// A user's role in their enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
    /// May change the enterprise's settings.
    pub fn manages_enterprise(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}
