//! Email addresses, normalised once at the edge.

/// A trimmed, lowercased, plausibly valid address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

const MAX_LEN: usize = 254;

/// Domains of free mail services: their users get a personal enterprise.
const PERSONAL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "aol.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "yandex.com",
    "mail.com",
    "zoho.com",
    "fastmail.com",
];

impl Email {
    /// Trims and lowercases; `None` when it cannot be an address.
    pub fn parse(raw: &str) -> Option<Self> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.rsplit_once('@')?;
        let ok = email.len() <= MAX_LEN
            && !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then_some(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The part before `@`.
    pub fn local(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// A free-mail address (its user gets a personal enterprise).
    pub fn is_personal(&self) -> bool {
        PERSONAL_DOMAINS.contains(&self.domain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_trims_and_lowercases() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn parse_rejects_what_cannot_be_an_address() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "a b@example.com",
            "ada@.com",
            "ada@example.com.",
        ] {
            assert_eq!(Email::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn free_mail_is_personal() {
        assert!(Email::parse("a@gmail.com").unwrap().is_personal());
        assert!(!Email::parse("a@acme.io").unwrap().is_personal());
    }
}
