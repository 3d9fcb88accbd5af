//! Where the broker may connect: public addresses only, unless an operator turned on the one
//! development setting ([`Destinations::dangerous_private`]).
//!
//! Checked twice. At scope creation and before every request, on the URL's host: IP literals in
//! any spelling (the URL parser has already canonicalised `0x7f.1`, `2130706433`, `[::ffff:…]`)
//! and names that always mean a private place (`localhost`, the metadata server's names). At
//! connect time, on every address a name resolves to ([`FilteringResolver`]), so a name that
//! resolves to a private address, now or after a DNS rebinding, is refused before any byte is
//! sent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::Host;

/// The environment variable (of the enclave and of the host) that allows private destinations
/// and plain `http`. For development and tests only; `confidential-space` refuses it, and since
/// an enclave's environment appears in its attestation token, client policies refuse it too.
pub const DANGEROUS_PRIVATE_VAR: &str = "AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS";

/// Host names that always mean a private place, whatever they resolve to.
const PRIVATE_NAMES: [&str; 4] = [
    "localhost",
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
];

/// Which destinations the broker may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Destinations {
    allow_private: bool,
}

impl Destinations {
    /// Public addresses over `https` only: the default, and the only setting in production.
    pub const PUBLIC: Destinations = Destinations {
        allow_private: false,
    };

    /// Also private, loopback and link-local addresses, and plain `http`. Development and tests
    /// only: an enclave started this way can be made to reach its own metadata server.
    pub fn dangerous_private() -> Destinations {
        Destinations {
            allow_private: true,
        }
    }

    /// Whether private destinations and plain `http` are allowed.
    pub fn allows_private(self) -> bool {
        self.allow_private
    }

    /// Parses the value of [`DANGEROUS_PRIVATE_VAR`]: unset, empty, `false` or `0` is off;
    /// `true` or `1` is on; anything else is an error (never silently off or on).
    pub fn from_setting(value: Option<&str>) -> Result<Destinations, String> {
        match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "false" | "0") => Ok(Destinations::PUBLIC),
            Some("true" | "1") => Ok(Destinations::dangerous_private()),
            Some(other) => Err(format!("{other:?} is not true or false")),
        }
    }

    /// Checks a URL's host (and scheme) before anything is sent.
    pub fn check_host(self, scheme: &str, host: &Host<&str>) -> Result<(), Refused> {
        if self.allow_private {
            return Ok(());
        }
        if scheme != "https" {
            return Err(Refused::PlainHttp);
        }
        match host {
            Host::Ipv4(ip) => check_ip(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => check_ip(IpAddr::V6(*ip)),
            Host::Domain(name) => check_name(name),
        }
    }

    /// Checks one resolved address.
    pub fn check_addr(self, addr: IpAddr) -> Result<(), Refused> {
        if self.allow_private {
            Ok(())
        } else {
            check_ip(addr)
        }
    }
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Plain `http` without the development setting.
    #[error("plain http is not allowed: use https")]
    PlainHttp,
    /// A name that always means a private place.
    #[error("{0:?} is a private host name")]
    PrivateName(String),
    /// An address that is not public.
    #[error("{0} is not a public address")]
    PrivateAddress(IpAddr),
    /// A name that resolves to no address.
    #[error("the host name resolves to no address")]
    NoAddress,
}

fn check_name(name: &str) -> Result<(), Refused> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // A name the URL parser left as a name but that reads as an address once its trailing dots
    // are gone (`127.0.0.1..`): judged as that address, in every IPv4 spelling the parser knows.
    if let Ok(url::Host::Ipv4(ip)) = url::Host::parse(&name) {
        return check_ip(IpAddr::V4(ip));
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return check_ip(ip);
    }
    let private = PRIVATE_NAMES
        .iter()
        .any(|p| name == *p || name.ends_with(&format!(".{p}")))
        || name.ends_with(".internal")
        || name.ends_with(".localhost");
    if private {
        Err(Refused::PrivateName(name))
    } else {
        Ok(())
    }
}

fn check_ip(ip: IpAddr) -> Result<(), Refused> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(Refused::PrivateAddress(ip))
    }
}

/// Whether `ip` is a public unicast address: not loopback, unspecified, private, shared,
/// link-local, unique-local, multicast, broadcast, documentation, benchmarking or reserved, and
/// no IPv6 form that embeds such an IPv4 address (mapped, compatible, NAT64, 6to4; Teredo is refused whole).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private = a == 0                                   // "this network" 0/8
        || a == 10                                         // private 10/8
        || (a == 100 && (64..128).contains(&b))            // shared (CGNAT) 100.64/10
        || a == 127                                        // loopback 127/8
        || (a == 169 && b == 254)                          // link-local (metadata) 169.254/16
        || (a == 172 && (16..32).contains(&b))             // private 172.16/12
        || (a == 192 && b == 0 && c == 0)                  // IETF protocol assignments 192.0.0/24
        || (a == 192 && b == 0 && c == 2)                  // documentation 192.0.2/24
        || (a == 192 && b == 88 && c == 99)                // 6to4 relay anycast 192.88.99/24
        || (a == 192 && b == 168)                          // private 192.168/16
        || (a == 198 && (b == 18 || b == 19))              // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100)               // documentation 198.51.100/24
        || (a == 203 && b == 0 && c == 113)                // documentation 203.0.113/24
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !private
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Forms that carry an IPv4 address: judge the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        // ::/96 (IPv4-compatible, deprecated), including :: and ::1.
        return false;
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // Well-known NAT64 64:ff9b::/96 reaches the IPv4 address in the last 32 bits.
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        // Local-use NAT64 64:ff9b:1::/48 (and the rest of 64:ff9b::/32): a translator may
        // place the IPv4 address anywhere, so it cannot be judged: refused whole.
        return false;
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address is in bits 16..48.
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000; // 2000::/3
    // IETF protocol assignments 2001::/23 (which holds Teredo, 2001::/32, a tunnel to an IPv4
    // address: refused whole) and documentation 2001:db8::/32 and 3fff::/20.
    let ietf = s[0] == 0x2001 && (s[1] < 0x200 || s[1] == 0x0db8);
    let special = ietf || (s[0] == 0x3fff && s[1] < 0x1000);
    global_unicast && !special
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// A reqwest resolver that resolves with the system resolver and refuses a name when any of
/// its addresses is not allowed: the check happens on the addresses actually connected to.
pub struct FilteringResolver {
    destinations: Destinations,
    inner: Arc<dyn Lookup>,
}

/// Name resolution underneath [`FilteringResolver`]: the system's, or a test's.
pub trait Lookup: Send + Sync {
    /// The addresses of `name`.
    fn lookup(&self, name: String) -> reqwest::dns::Resolving;
}

/// The system resolver (`getaddrinfo` through tokio).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, name: String) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl FilteringResolver {
    /// Resolves with `inner`, keeping only what `destinations` allows.
    pub fn new(destinations: Destinations, inner: Arc<dyn Lookup>) -> FilteringResolver {
        FilteringResolver {
            destinations,
            inner,
        }
    }

    /// Resolves `name` and checks every address.
    pub async fn resolve_checked(&self, name: &str) -> Result<Vec<SocketAddr>, Refused> {
        check_name_unless_allowed(self.destinations, name)?;
        let addrs: Vec<SocketAddr> = self
            .inner
            .lookup(name.to_owned())
            .await
            .map_err(|_| Refused::NoAddress)?
            .collect();
        if addrs.is_empty() {
            return Err(Refused::NoAddress);
        }
        // One private address refuses the name: a name that mixes public and private
        // addresses is a rebinding attempt, not an accident to route around.
        for addr in &addrs {
            self.destinations.check_addr(addr.ip())?;
        }
        Ok(addrs)
    }
}

fn check_name_unless_allowed(destinations: Destinations, name: &str) -> Result<(), Refused> {
    if destinations.allows_private() {
        Ok(())
    } else {
        check_name(name)
    }
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = FilteringResolver {
            destinations: self.destinations,
            inner: self.inner.clone(),
        };
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match this.resolve_checked(&name).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(refused) => Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> (String, Host<String>) {
        let u = url::Url::parse(url).unwrap();
        (u.scheme().to_owned(), u.host().unwrap().to_owned())
    }

    fn check(url: &str) -> Result<(), Refused> {
        let (scheme, host) = host(url);
        let host = match &host {
            Host::Domain(d) => Host::Domain(d.as_str()),
            Host::Ipv4(ip) => Host::Ipv4(*ip),
            Host::Ipv6(ip) => Host::Ipv6(*ip),
        };
        Destinations::PUBLIC.check_host(&scheme, &host)
    }

    #[test]
    fn every_spelling_of_a_private_destination_is_refused() {
        for url in [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://017700000001/",
            "https://0.0.0.0/",
            "https://0/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[64:ff9b:1:0808:0808::]/",
            "https://[2002:a9fe:a9fe::]/",
            "https://[2001:0:4136:e378:8000:63bf:56ff:fffe]/",
            "https://169.254.169.254/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[fc00::1]/",
            "https://[ff02::1]/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://240.0.0.1/",
            "https://198.18.0.1/",
            "https://192.0.2.1/",
            "https://[2001:db8::1]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://metadata.google.internal/",
            "https://METADATA.GOOGLE.INTERNAL./",
            "https://metadata/",
            "https://metadata.goog/",
            "https://anything.internal/",
            "https://127.0.0.1../",
            "https://0x7f.1../",
            "https://169.254.169.254.../",
        ] {
            assert!(check(url).is_err(), "{url} was allowed");
        }
    }

    #[test]
    fn public_destinations_over_https_are_allowed() {
        for url in [
            "https://api.example.com/",
            "https://8.8.8.8/",
            "https://100.128.0.1/",
            "https://172.32.0.1/",
            "https://[2606:4700::1111]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[2002:0808:0808::]/",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn plain_http_is_refused_without_the_setting() {
        assert_eq!(check("http://api.example.com/"), Err(Refused::PlainHttp));
    }

    #[test]
    fn the_setting_allows_private_and_http() {
        let (scheme, host) = host("http://127.0.0.1:8080/");
        let Host::Ipv4(ip) = host else { panic!() };
        assert_eq!(
            Destinations::dangerous_private().check_host(&scheme, &Host::Ipv4(ip)),
            Ok(())
        );
    }

    #[test]
    fn the_setting_parses_strictly() {
        assert_eq!(Destinations::from_setting(None), Ok(Destinations::PUBLIC));
        assert_eq!(
            Destinations::from_setting(Some("0")),
            Ok(Destinations::PUBLIC)
        );
        assert_eq!(
            Destinations::from_setting(Some("TRUE")),
            Ok(Destinations::dangerous_private())
        );
        assert!(Destinations::from_setting(Some("yes")).is_err());
    }

    struct Fixed(Vec<IpAddr>);
    impl Lookup for Fixed {
        fn lookup(&self, _: String) -> reqwest::dns::Resolving {
            let addrs: Vec<SocketAddr> = self.0.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            Box::pin(async move { Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs) })
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_refused_at_resolution() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let rebinding = FilteringResolver::new(
            Destinations::PUBLIC,
            Arc::new(Fixed(vec![public, loopback])),
        );
        assert_eq!(
            rebinding.resolve_checked("rebind.example").await,
            Err(Refused::PrivateAddress(loopback))
        );
        let honest = FilteringResolver::new(Destinations::PUBLIC, Arc::new(Fixed(vec![public])));
        assert_eq!(
            honest.resolve_checked("api.example").await.unwrap()[0].ip(),
            public
        );
        let none = FilteringResolver::new(Destinations::PUBLIC, Arc::new(Fixed(vec![])));
        assert_eq!(
            none.resolve_checked("api.example").await,
            Err(Refused::NoAddress)
        );
    }

    #[tokio::test]
    async fn the_system_resolver_sees_localhost_as_loopback_and_refuses_it() {
        // Through the real resolver (/etc/hosts): the name check would catch `localhost`
        // first, so ask for it with the name check out of the way.
        let addrs: Vec<SocketAddr> = SystemLookup
            .lookup("localhost".into())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        for addr in addrs {
            assert_eq!(
                Destinations::PUBLIC.check_addr(addr.ip()),
                Err(Refused::PrivateAddress(addr.ip()))
            );
        }
    }
}
