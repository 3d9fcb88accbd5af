//! `cargo bench -p aileron-sdk --bench vault`: what a client's unlock costs, apart from the
//! network. `kdf_floor`: the Argon2id derivation at the default (floor) parameters, once per
//! unlock; `unwrap`: opening the vault key; `open_and_seal/N`: opening N credentials (each checked
//! against its binding) and sealing each to an enclave's HPKE key (what an unlock does per
//! credential). `scripts/bench-vault` adds the end-to-end unlock through a server and an enclave.

use std::hint::black_box;

use aileron_sdk::seal;
use aileron_sdk::vault::CredentialPolicy;
use aileron_sdk::vault::format::{self, Binding, KdfParams, Key};
use aileron_sdk::wire::AllowRule;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use secrecy::SecretString;

struct Sealed {
    id: String,
    policy: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn credentials(key: &Key, n: usize) -> Vec<Sealed> {
    let rules = vec![AllowRule {
        methods: vec!["GET".into()],
        url_prefix: "https://api.example.com/v1/".into(),
    }];
    let policy = CredentialPolicy::bearer(rules, None).to_bytes();
    (0..n)
        .map(|i| {
            let id = format!("00000000-0000-4000-8000-{i:012}");
            let binding = Binding {
                user_id: "user",
                credential_id: &id,
                version: 1,
                policy: &policy,
            };
            let secret = format!("sk_live_{i:032}");
            let ciphertext = format::seal_credential(key, secret.as_bytes(), &binding).unwrap();
            Sealed {
                id,
                policy: policy.clone(),
                ciphertext,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let passphrase = SecretString::from("correct horse battery staple jumps");
    let salt = [7u8; 16];
    let mut group = c.benchmark_group("unlock");
    group.sample_size(10);
    group.bench_function("kdf_floor", |b| {
        b.iter(|| format::derive_kek(black_box(&passphrase), &salt, KdfParams::FLOOR).unwrap())
    });
    let kek = format::derive_kek(&passphrase, &salt, KdfParams::FLOOR).unwrap();
    let vault_key = Key::generate().unwrap();
    let wrapped = format::wrap(&kek, &vault_key, "user").unwrap();
    group.bench_function("unwrap", |b| {
        b.iter(|| format::unwrap(&kek, black_box(&wrapped), "user").unwrap())
    });
    let credential_key = format::credential_key(&vault_key);
    let (_, enclave) = seal::generate();
    let enclave = seal::public_bytes(&enclave);
    let scope = CredentialPolicy::bearer(vec![], None)
        .scope(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    for n in [1usize, 50] {
        let sealed = credentials(&credential_key, n);
        group.bench_with_input(
            BenchmarkId::new("open_and_seal", n),
            &sealed,
            |b, sealed| {
                b.iter(|| {
                    for s in sealed {
                        let binding = Binding {
                            user_id: "user",
                            credential_id: &s.id,
                            version: 1,
                            policy: &s.policy,
                        };
                        let secret =
                            format::open_credential(&credential_key, &s.ciphertext, &binding, "c")
                                .unwrap();
                        black_box(seal::escrow_request(&enclave, &secret, &scope).unwrap());
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
