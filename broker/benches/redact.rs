//! `cargo bench -p aileron-broker --bench redact`: what redaction adds to a brokered request.
//! `searcher`: building the searcher for a bearer credential (every encoded form of the secret,
//! the injected value and the header value), once per request; `redact/clean/N`: one pass over
//! an answer of N bytes that does not echo the secret (the common case); `redact/echo/N`: the
//! same answer echoing it once, base64 inside JSON.

use std::hint::black_box;

use aileron_broker::redact::Needles;
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SECRET: &[u8] = b"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

/// The searcher the broker builds for a bearer credential (the same values).
fn bearer_needles() -> Needles {
    let header = [b"Bearer ".as_slice(), SECRET].concat();
    Needles::for_values(&[SECRET, SECRET, &header])
}

fn answer(len: usize, echo: bool) -> Vec<u8> {
    let mut body = Vec::with_capacity(len + 128);
    body.extend_from_slice(b"{\"items\":[");
    while body.len() < len {
        body.extend_from_slice(b"{\"id\":12345,\"name\":\"a repository\",\"private\":false},");
    }
    if echo {
        let encoded = base64::engine::general_purpose::STANDARD.encode(SECRET);
        body.extend_from_slice(format!("{{\"echo\":\"{encoded}\"}}").as_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

fn bench(c: &mut Criterion) {
    c.bench_function("searcher", |b| b.iter(|| black_box(bearer_needles())));
    let needles = bearer_needles();
    let mut group = c.benchmark_group("redact");
    for len in [4 * 1024, 1024 * 1024] {
        for echo in [false, true] {
            let body = answer(len, echo);
            group.throughput(Throughput::Bytes(body.len() as u64));
            let name = if echo { "echo" } else { "clean" };
            group.bench_with_input(BenchmarkId::new(name, len), &body, |b, body| {
                b.iter(|| black_box(needles.redact(body)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
