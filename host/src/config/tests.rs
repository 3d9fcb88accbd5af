use super::*;

fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::try_from(RawConfig::from_pairs(pairs.iter().copied()))
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn defaults_match_the_seed() {
    let c = with(&[]).unwrap();
    assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
    assert!(matches!(c.database, Database::InMemory));
    assert_eq!(c.jwt_issuer, "aileron");
    assert_eq!(c.access_token_ttl, Duration::from_secs(15 * 60));
    assert_eq!(c.refresh_token_ttl, Duration::from_secs(168 * 3600));
    assert_eq!(c.kek_session_ttl, Duration::from_secs(24 * 3600));
    assert_eq!(c.escrow_ttl, Duration::from_secs(168 * 3600));
    assert_eq!(c.ui_redirect_url, "/");
    assert!(!c.auto_verify_email);
    assert_eq!(c.tee, TeeProvider::Disabled);
    assert_eq!(c.google_issuer.as_str(), "https://accounts.google.com/");
    assert_eq!(c.github_api_url.as_str(), "https://api.github.com/");
    assert_eq!(c.resend_api_url.as_str(), "https://api.resend.com/");
    assert_eq!(c.enclave_port, 8443);
}

#[test]
fn pool_size_and_proxy_hops_default_to_the_backend_and_the_peer() {
    let c = with(&[]).unwrap();
    assert_eq!((c.database_pool_size, c.trusted_proxy_hops), (None, 0));
    let c = with(&[
        ("AILERON_DATABASE_POOL_SIZE", "40"),
        ("AILERON_TRUSTED_PROXY_HOPS", "1"),
    ])
    .unwrap();
    assert_eq!((c.database_pool_size, c.trusted_proxy_hops), (Some(40), 1));
}

#[test]
fn a_database_url_selects_the_backend() {
    let pg = with(&[
        ("AILERON_DATABASE_URL", "postgres://u@h/db"),
        ("AILERON_JWT_SIGNING_KEY", KEY),
    ])
    .unwrap();
    assert!(matches!(pg.database, Database::Postgres(_)));
    let lite = with(&[
        ("AILERON_DATABASE_URL", "sqlite:/tmp/x.db"),
        ("AILERON_JWT_SIGNING_KEY", KEY),
    ])
    .unwrap();
    assert!(matches!(lite.database, Database::Sqlite(_)));
}

#[test]
fn every_bad_value_is_named_with_its_accepted_form() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "addr",
            &[("AILERON_ADDR", "nowhere")],
            "AILERON_ADDR: invalid value \"nowhere\"; expected host:port, e.g. 0.0.0.0:8080",
        ),
        (
            "ttl",
            &[("AILERON_ACCESS_TOKEN_TTL", "15 minutes please")],
            "AILERON_ACCESS_TOKEN_TTL: invalid value \"15 minutes please\"; expected a positive duration such as 30s, 15m, 24h or 7d",
        ),
        (
            "zero ttl",
            &[("AILERON_REFRESH_TOKEN_TTL", "0s")],
            "AILERON_REFRESH_TOKEN_TTL: invalid value \"0s\"; expected a positive duration such as 30s, 15m, 24h or 7d",
        ),
        (
            "kek ttl",
            &[("AILERON_KEK_SESSION_TTL", "x")],
            "AILERON_KEK_SESSION_TTL: invalid value \"x\"; expected a positive duration such as 30s, 15m, 24h or 7d",
        ),
        (
            "escrow ttl",
            &[("AILERON_ESCROW_TTL", "-1h")],
            "AILERON_ESCROW_TTL: invalid value \"-1h\"; expected a positive duration such as 30s, 15m, 24h or 7d",
        ),
        (
            "pool size zero",
            &[("AILERON_DATABASE_POOL_SIZE", "0")],
            "AILERON_DATABASE_POOL_SIZE: invalid value \"0\"; expected a whole number, 1 to 1000",
        ),
        (
            "pool size huge",
            &[("AILERON_DATABASE_POOL_SIZE", "5000")],
            "AILERON_DATABASE_POOL_SIZE: invalid value \"5000\"; expected a whole number, 1 to 1000",
        ),
        (
            "proxy hops",
            &[("AILERON_TRUSTED_PROXY_HOPS", "11")],
            "AILERON_TRUSTED_PROXY_HOPS: invalid value \"11\"; expected a whole number, 0 to 10",
        ),
        (
            "proxy hops negative",
            &[("AILERON_TRUSTED_PROXY_HOPS", "-1")],
            "AILERON_TRUSTED_PROXY_HOPS: invalid value \"-1\"; expected a whole number, 0 to 10",
        ),
        (
            "bool",
            &[("AILERON_AUTO_VERIFY_EMAIL", "yes")],
            "AILERON_AUTO_VERIFY_EMAIL: invalid value \"yes\"; expected true or false",
        ),
        (
            "db scheme",
            &[("AILERON_DATABASE_URL", "mysql://root:hunter2@h/db")],
            "AILERON_DATABASE_URL: invalid value; expected a postgres://, postgresql:// or sqlite: URL",
        ),
        (
            "key missing",
            &[("AILERON_DATABASE_URL", "sqlite::memory:")],
            "AILERON_JWT_SIGNING_KEY: required when AILERON_DATABASE_URL is set (generate one with: openssl rand -hex 32)",
        ),
        (
            "key short",
            &[("AILERON_JWT_SIGNING_KEY", "short")],
            "AILERON_JWT_SIGNING_KEY: invalid value; expected at least 32 bytes (generate one with: openssl rand -hex 32)",
        ),
        (
            "ui redirect",
            &[("AILERON_UI_REDIRECT_URL", "javascript:alert(1)")],
            "AILERON_UI_REDIRECT_URL: invalid value \"javascript:alert(1)\"; expected a path starting with / or an absolute http(s) URL",
        ),
        (
            "public url",
            &[("AILERON_PUBLIC_URL", "auth.example.com")],
            "AILERON_PUBLIC_URL: invalid value \"auth.example.com\"; expected an absolute http:// or https:// URL",
        ),
        (
            "cors",
            &[("AILERON_CORS_ORIGINS", "https://a.example, *")],
            "AILERON_CORS_ORIGINS: invalid value \"*\"; expected a comma-separated list of origins such as https://app.example.com",
        ),
        (
            "google secret",
            &[("GOOGLE_CLIENT_ID", "id")],
            "GOOGLE_CLIENT_SECRET: required when its client ID is set",
        ),
        (
            "github id",
            &[("GITHUB_OAUTH_CLIENT_SECRET", "s")],
            "GITHUB_OAUTH_CLIENT_ID: required when its client secret is set",
        ),
        (
            "google issuer",
            &[("GOOGLE_OIDC_ISSUER", "ftp://x")],
            "GOOGLE_OIDC_ISSUER: invalid value \"ftp://x\"; expected an absolute http:// or https:// URL",
        ),
        (
            "github base",
            &[("GITHUB_OAUTH_BASE_URL", "github")],
            "GITHUB_OAUTH_BASE_URL: invalid value \"github\"; expected an absolute http:// or https:// URL",
        ),
        (
            "github api",
            &[("GITHUB_API_URL", "api")],
            "GITHUB_API_URL: invalid value \"api\"; expected an absolute http:// or https:// URL",
        ),
        (
            "resend url",
            &[("RESEND_API_URL", "resend")],
            "RESEND_API_URL: invalid value \"resend\"; expected an absolute http:// or https:// URL",
        ),
        (
            "oidc issuer missing",
            &[("OIDC_CLIENT_ID", "i"), ("OIDC_CLIENT_SECRET", "s")],
            "OIDC_ISSUER_URL: required when OIDC_CLIENT_ID is set",
        ),
        (
            "oidc client missing",
            &[("OIDC_ISSUER_URL", "https://okta.example")],
            "OIDC_CLIENT_ID: required when OIDC_ISSUER_URL is set",
        ),
        (
            "mail from",
            &[("MAIL_FROM", "nobody")],
            "MAIL_FROM: invalid value \"nobody\"; expected an email address, optionally as Name <addr@domain>",
        ),
        (
            "tee",
            &[("AILERON_TEE_PROVIDER", "sgx")],
            "AILERON_TEE_PROVIDER: invalid value \"sgx\"; expected empty (disabled), local or confidential-space",
        ),
        (
            "enclave url",
            &[("AILERON_TEE_PROVIDER", "confidential-space")],
            "AILERON_ENCLAVE_URL: required (or AILERON_ENCLAVE_URLS) when AILERON_TEE_PROVIDER=confidential-space",
        ),
        (
            "digest",
            &[
                ("AILERON_TEE_PROVIDER", "confidential-space"),
                ("AILERON_ENCLAVE_URL", "https://e:8443"),
                ("AILERON_ENCLAVE_IMAGE_DIGEST", "sha256:abc"),
            ],
            "AILERON_ENCLAVE_IMAGE_DIGEST: invalid value \"sha256:abc\"; expected sha256: followed by 64 lowercase hex digits",
        ),
        (
            "project",
            &[
                ("AILERON_TEE_PROVIDER", "confidential-space"),
                ("AILERON_ENCLAVE_URL", "https://e:8443"),
                (
                    "AILERON_ENCLAVE_IMAGE_DIGEST",
                    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                ),
            ],
            "AILERON_GCP_PROJECT_ID: required when AILERON_TEE_PROVIDER=confidential-space",
        ),
        (
            "local enclave url without its digest",
            &[
                ("AILERON_TEE_PROVIDER", "local"),
                ("AILERON_ENCLAVE_URL", "https://127.0.0.1:8443"),
            ],
            "AILERON_ENCLAVE_IMAGE_DIGEST: required when AILERON_TEE_PROVIDER=local with AILERON_ENCLAVE_URL or AILERON_ENCLAVE_URLS (the sha256 of the enclave binary)",
        ),
        (
            "enclave url over plain http",
            &[
                ("AILERON_TEE_PROVIDER", "confidential-space"),
                ("AILERON_ENCLAVE_URL", "http://enclave.example:8443"),
            ],
            "AILERON_ENCLAVE_URL: invalid value \"http://enclave.example:8443\"; expected an absolute https:// URL (the enclave's attested TLS key is pinned)",
        ),
        (
            "local enclave digest",
            &[
                ("AILERON_TEE_PROVIDER", "local"),
                ("AILERON_ENCLAVE_URL", "https://127.0.0.1:8443"),
                ("AILERON_ENCLAVE_IMAGE_DIGEST", "md5:abc"),
            ],
            "AILERON_ENCLAVE_IMAGE_DIGEST: invalid value \"md5:abc\"; expected sha256: followed by 64 lowercase hex digits",
        ),
        (
            "enclave port",
            &[("AILERON_ENCLAVE_PORT", "70000")],
            "AILERON_ENCLAVE_PORT: invalid value \"70000\"; expected a port number 1-65535",
        ),
        (
            "token type",
            &[("AILERON_ATTESTATION_TOKEN_TYPE", "jwt")],
            "AILERON_ATTESTATION_TOKEN_TYPE: invalid value \"jwt\"; expected OIDC or PKI",
        ),
        (
            "rate addr",
            &[("AILERON_RATE_LIMIT_PER_ADDR", "0")],
            "AILERON_RATE_LIMIT_PER_ADDR: invalid value \"0\"; expected a whole number of attempts per minute, at least 1",
        ),
        (
            "rate account",
            &[("AILERON_RATE_LIMIT_PER_ACCOUNT", "many")],
            "AILERON_RATE_LIMIT_PER_ACCOUNT: invalid value \"many\"; expected a whole number of attempts per minute, at least 1",
        ),
    ];
    for (name, pairs, message) in cases {
        let err = match with(pairs) {
            Err(e) => e,
            Ok(_) => panic!("case {name}: accepted"),
        };
        assert_eq!(err.to_string(), *message, "case {name}");
    }
}

#[test]
fn a_bad_database_url_is_never_echoed() {
    let err = with(&[("AILERON_DATABASE_URL", "mysql://root:hunter2@h/db")])
        .err()
        .unwrap();
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn the_signing_key_debug_form_is_redacted() {
    let c = with(&[("AILERON_JWT_SIGNING_KEY", KEY)]).unwrap();
    let shown = format!("{:?}", c.jwt_signing_key);
    // Exactly the redacted form: raw bytes would print as numbers, not as the key's text.
    assert_eq!(shown, "Some(SigningKey(<redacted>))");
}

#[test]
fn cors_origins_include_the_ui_origin() {
    let c = with(&[
        ("AILERON_UI_REDIRECT_URL", "https://app.example.com/welcome"),
        ("AILERON_CORS_ORIGINS", "https://admin.example.com"),
    ])
    .unwrap();
    assert_eq!(
        c.cors_origins,
        ["https://app.example.com", "https://admin.example.com"]
    );
}

#[test]
fn a_local_enclave_is_external_with_its_url_and_digest_else_in_process() {
    let digest = format!("sha256:{}", "e".repeat(64));
    let external = with(&[
        ("AILERON_TEE_PROVIDER", "local"),
        ("AILERON_ENCLAVE_URL", "https://127.0.0.1:8443"),
        ("AILERON_ENCLAVE_IMAGE_DIGEST", &digest),
    ])
    .unwrap();
    match external.tee {
        TeeProvider::Local {
            enclave_urls,
            image_digest: Some(d),
        } => {
            assert_eq!(enclave_urls.len(), 1);
            assert_eq!(enclave_urls[0].as_str(), "https://127.0.0.1:8443/");
            assert_eq!(d, digest);
        }
        other => panic!("{other:?}"),
    }
    let in_process = with(&[("AILERON_TEE_PROVIDER", "local")]).unwrap();
    assert_eq!(
        in_process.tee,
        TeeProvider::Local {
            enclave_urls: Vec::new(),
            image_digest: None
        }
    );
    let err = with(&[
        ("AILERON_TEE_PROVIDER", "local"),
        ("AILERON_ENCLAVE_URL", "not a url"),
    ])
    .err()
    .expect("refused");
    assert!(err.to_string().starts_with("AILERON_ENCLAVE_URL"), "{err}");
}

#[test]
fn an_enclave_fleet_is_a_list_of_distinct_https_urls_given_one_way() {
    let digest = format!("sha256:{}", "e".repeat(64));
    let fleet = |urls: &str| {
        with(&[
            ("AILERON_TEE_PROVIDER", "local"),
            ("AILERON_ENCLAVE_URLS", urls),
            ("AILERON_ENCLAVE_IMAGE_DIGEST", &digest),
        ])
    };
    match fleet("https://10.0.0.2:8443, https://10.0.0.3:8443\nhttps://10.0.0.4:8443")
        .unwrap()
        .tee
    {
        TeeProvider::Local { enclave_urls, .. } => assert_eq!(
            enclave_urls.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            [
                "https://10.0.0.2:8443/",
                "https://10.0.0.3:8443/",
                "https://10.0.0.4:8443/"
            ]
        ),
        other => panic!("{other:?}"),
    }
    for (urls, expected) in [
        ("https://a:1,https://a:1", "each enclave URL once"),
        (" , ", "1 to 64 https:// URLs"),
        ("https://a:1,http://b:1", "an absolute https:// URL"),
    ] {
        let err = fleet(urls).err().expect("refused").to_string();
        assert!(
            err.starts_with("AILERON_ENCLAVE_URLS") && err.contains(expected),
            "{urls}: {err}"
        );
    }
    let too_many: Vec<String> = (0..65).map(|i| format!("https://e{i}:8443")).collect();
    assert!(fleet(&too_many.join(",")).is_err());
    let both = with(&[
        ("AILERON_TEE_PROVIDER", "local"),
        ("AILERON_ENCLAVE_URL", "https://a:1"),
        ("AILERON_ENCLAVE_URLS", "https://b:1"),
        ("AILERON_ENCLAVE_IMAGE_DIGEST", &digest),
    ])
    .err()
    .expect("refused")
    .to_string();
    assert!(both.contains("use one of the two"), "{both}");
    // Confidential Space takes the list too.
    let cs = with(&[
        ("AILERON_TEE_PROVIDER", "confidential-space"),
        ("AILERON_ENCLAVE_URLS", "https://a:8443,https://b:8443"),
        ("AILERON_ENCLAVE_IMAGE_DIGEST", &digest),
        ("AILERON_GCP_PROJECT_ID", "p"),
    ])
    .unwrap();
    assert!(
        matches!(cs.tee, TeeProvider::ConfidentialSpace { enclave_urls, .. } if enclave_urls.len() == 2)
    );
}

#[test]
fn audit_retention_is_unset_or_at_least_a_day() {
    assert_eq!(with(&[]).unwrap().audit_retention, None);
    assert_eq!(
        with(&[("AILERON_AUDIT_RETENTION", "90d")])
            .unwrap()
            .audit_retention,
        Some(Duration::from_secs(90 * 24 * 3600))
    );
    for bad in ["23h", "0s", "forever"] {
        let err = with(&[("AILERON_AUDIT_RETENTION", bad)])
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.starts_with("AILERON_AUDIT_RETENTION") && err.contains("at least 1d"),
            "{bad}: {err}"
        );
    }
}
