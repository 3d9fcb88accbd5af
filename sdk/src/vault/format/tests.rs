use super::*;

fn kek(passphrase: &str, salt: &[u8; SALT_LEN]) -> Key {
    derive_kek(&SecretString::from(passphrase), salt, KdfParams::FLOOR).unwrap()
}

fn binding<'a>(user: &'a str, id: &'a str, version: u32, policy: &'a [u8]) -> Binding<'a> {
    Binding {
        user_id: user,
        credential_id: id,
        version,
        policy,
    }
}

#[test]
fn the_passphrase_is_normalised_before_stretching() {
    let salt = [7u8; SALT_LEN];
    // "é" composed (NFC) and decomposed (NFD) are the same passphrase.
    let composed = kek("caf\u{e9} au lait", &salt);
    let decomposed = kek("cafe\u{301} au lait", &salt);
    assert_eq!(composed.expose(), decomposed.expose());
    assert_ne!(composed.expose(), kek("cafe au lait", &salt).expose());
}

#[test]
fn parameters_outside_the_floor_or_ceiling_are_refused_before_any_work() {
    let pass = SecretString::from("correct horse battery staple");
    for params in [
        KdfParams {
            m_cost_kib: 8 * 1024,
            ..KdfParams::FLOOR
        },
        KdfParams {
            t_cost: 2,
            ..KdfParams::FLOOR
        },
        KdfParams {
            p_cost: 0,
            ..KdfParams::FLOOR
        },
        KdfParams {
            m_cost_kib: 4 * 1024 * 1024,
            ..KdfParams::FLOOR
        },
        KdfParams {
            t_cost: 100,
            ..KdfParams::FLOOR
        },
        KdfParams {
            p_cost: 64,
            ..KdfParams::FLOOR
        },
    ] {
        assert!(
            matches!(
                derive_kek(&pass, &[0; SALT_LEN], params),
                Err(VaultError::Parameters(_))
            ),
            "{params:?}"
        );
    }
    assert!(matches!(
        derive_kek(&pass, &[0; 8], KdfParams::FLOOR),
        Err(VaultError::Malformed("salt"))
    ));
}

#[test]
fn a_wrapped_key_opens_only_with_its_passphrase_and_for_its_user() {
    let salt = [1u8; SALT_LEN];
    let right = kek("the right passphrase", &salt);
    let vault_key = Key::generate().unwrap();
    let wrapped = wrap(&right, &vault_key, "user-a").unwrap();
    assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
    let opened = unwrap(&right, &wrapped, "user-a").unwrap();
    assert_eq!(opened.expose(), vault_key.expose());
    let wrong = kek("the wrong passphrase", &salt);
    assert_eq!(
        unwrap(&wrong, &wrapped, "user-a").unwrap_err(),
        VaultError::WrongPassphrase
    );
    assert_eq!(
        unwrap(&right, &wrapped, "user-b").unwrap_err(),
        VaultError::WrongPassphrase
    );
    assert_eq!(
        unwrap(&right, &wrapped[1..], "user-a").unwrap_err(),
        VaultError::Malformed("wrapped key length")
    );
}

#[test]
fn a_credential_is_bound_to_user_id_version_and_policy() {
    let key = credential_key(&Key::generate().unwrap());
    let policy = br#"{"kind":"bearer","allow":[]}"#;
    let good = binding("u1", "c1", 1, policy);
    let sealed = seal_credential(&key, b"sk-live-123", &good).unwrap();
    assert!(!sealed.windows(11).any(|w| w == b"sk-live-123"));
    assert_eq!(
        open_credential(&key, &sealed, &good, "c")
            .unwrap()
            .as_slice(),
        b"sk-live-123"
    );
    let widened = br#"{"kind":"bearer","allow":[{"methods":["GET"],"url_prefix":"https://"}]}"#;
    for (other, why) in [
        (binding("u2", "c1", 1, policy), "another user"),
        (binding("u1", "c2", 1, policy), "another credential"),
        (binding("u1", "c1", 2, policy), "another version"),
        (binding("u1", "c1", 1, widened), "a widened policy"),
    ] {
        assert_eq!(
            open_credential(&key, &sealed, &other, "c").unwrap_err(),
            VaultError::Tampered("c".into()),
            "{why}"
        );
    }
}

#[test]
fn only_a_secret_a_header_can_carry_is_sealed() {
    let key = credential_key(&Key::generate().unwrap());
    let good = binding("u1", "c1", 1, b"{}");
    let longest = vec![b'a'; MAX_SECRET_LEN];
    let sealed = seal_credential(&key, &longest, &good).unwrap();
    assert!(CIPHERTEXT_LEN.contains(&sealed.len()));
    assert!(CIPHERTEXT_LEN.contains(&seal_credential(&key, "é".as_bytes(), &good).unwrap().len()));
    let too_long = vec![b'a'; MAX_SECRET_LEN + 1];
    for (secret, why) in [
        (&b""[..], "empty"),
        (&too_long[..], "too long"),
        (&b"sk-\xff\xfe"[..], "not UTF-8"),
        (&b"sk-live\r\nX-Injected: 1"[..], "CR LF"),
        (&b"sk-\x00"[..], "NUL"),
        (&b"sk-\x7f"[..], "DEL"),
    ] {
        assert!(
            matches!(
                seal_credential(&key, secret, &good),
                Err(VaultError::Secret(_))
            ),
            "{why}"
        );
    }
}

#[test]
fn the_credential_key_and_verifier_are_distinct_one_way_derivations() {
    let vault_key = Key::generate().unwrap();
    let (ck, v) = (credential_key(&vault_key), verifier(&vault_key));
    assert_ne!(ck.expose(), v.expose());
    assert_ne!(ck.expose(), vault_key.expose());
    assert_eq!(verifier(&vault_key).expose(), v.expose(), "deterministic");
    assert_eq!(verifier_hash(&v), sha256(v.expose()));
}

#[test]
fn keys_never_print() {
    assert_eq!(format!("{:?}", Key::generate().unwrap()), "Key([REDACTED])");
}
