//! Throughput of LTPA token creation and verification, single-threaded,
//! with the real WebSphere key file and tokens of `tests/vectors`.
//!
//! Run with `cargo bench -p simul-ltpa --bench tokens`; the figures are
//! recorded in `BENCHMARKS.md` at the root of the repository. The target
//! is at least 20,000 LtpaToken2 verifications per second on one core.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ltpa::{
    AccessId, DominoSecret, KeyFile, Password, TokenFormat, UserData, Verifier, VerifyOptions,
    domino, ltpa1, ltpa2,
};

/// Realm and user of the WebSphere 2013 vectors.
const REALM: &str = "9.3.179.80:5389";
const USER: &str = "uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com";
/// Expiry of `websphere-2013.ltpatoken2` (ms); the v1 token expires 100 s earlier.
const LTPA2_EXPIRES_MS: i64 = 1_696_698_581_000;
const LTPA1_EXPIRES_MS: i64 = 1_696_698_481_000;
/// Evaluation moment before both WebSphere tokens expire.
const WEBSPHERE_NOW_MS: i64 = 1_696_698_000_000;

/// Domino secret and token of markusberg/ltpa's tests (see `tests/vectors/README.md`).
const DOMINO_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhM=";
const DOMINO_USER: &str = "My Test User";
const DOMINO_TOKEN: &str =
    "AAECAzQ5OTYwMWE2NDk5NjE5MTZNeSBUZXN0IFVzZXJjcHMKyXIrtD4SZcV7DKWd67EFng==";
const DOMINO_CREATED_S: u32 = 1_234_567_590;
const DOMINO_EXPIRES_S: u32 = 1_234_573_590;

fn vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn vector_text(name: &str) -> String {
    String::from_utf8(vector(name)).expect("UTF-8 vector").trim().to_owned()
}

fn tokens(c: &mut Criterion) {
    let key_bytes = vector("websphere-2013.keys");
    let password = Password::new("password");
    let key_path = Path::new("websphere-2013.keys");
    let file = KeyFile::parse(&key_bytes, &password, key_path).expect("the vector key file");
    let keys = &file.keys;
    let data = UserData::for_user(&AccessId::user(REALM, USER));
    let ltpa2_token = vector_text("websphere-2013.ltpatoken2");
    let ltpa1_token = vector_text("websphere-2013.ltpatoken1");
    let websphere_at = VerifyOptions::at(WEBSPHERE_NOW_MS);
    let secret = DominoSecret::from_base64(DOMINO_SECRET).expect("the vector secret");
    let domino_at = VerifyOptions::at(i64::from(DOMINO_CREATED_S) * 1000);
    let verifier = Verifier::new().with_keys(keys.clone());
    let verifier_with_domino =
        Verifier::new().with_keys(keys.clone()).with_domino_secret(secret.clone());

    // What is measured must succeed: a benchmark of a failing path would lie.
    assert_eq!(ltpa2::verify(keys, &ltpa2_token, &websphere_at).expect("ltpa2").user, USER);
    assert_eq!(ltpa1::verify(keys, &ltpa1_token, &websphere_at).expect("ltpa1").user, USER);
    assert_eq!(ltpa2::create(keys, &data, LTPA2_EXPIRES_MS), ltpa2_token);
    assert_eq!(ltpa1::create(keys, &data, LTPA1_EXPIRES_MS), ltpa1_token);
    assert_eq!(
        domino::verify(&secret, DOMINO_TOKEN, &domino_at).expect("domino").user,
        DOMINO_USER
    );
    for v in [&verifier, &verifier_with_domino] {
        let identity = v.verify(&ltpa2_token, None, &websphere_at).expect("auto-detect");
        assert_eq!(identity.format, TokenFormat::Ltpa2);
    }

    let mut group = c.benchmark_group("ltpa");
    group.throughput(Throughput::Elements(1));

    group.bench_function("ltpa2 verify", |b| {
        b.iter(|| ltpa2::verify(keys, black_box(&ltpa2_token), black_box(&websphere_at)))
    });
    group.bench_function("ltpa2 create", |b| {
        b.iter(|| ltpa2::create(keys, black_box(&data), black_box(LTPA2_EXPIRES_MS)))
    });
    group.bench_function("ltpa1 verify", |b| {
        b.iter(|| ltpa1::verify(keys, black_box(&ltpa1_token), black_box(&websphere_at)))
    });
    group.bench_function("ltpa1 create", |b| {
        b.iter(|| ltpa1::create(keys, black_box(&data), black_box(LTPA1_EXPIRES_MS)))
    });
    group.bench_function("domino verify", |b| {
        b.iter(|| domino::verify(&secret, black_box(DOMINO_TOKEN), black_box(&domino_at)))
    });
    group.bench_function("domino create", |b| {
        b.iter(|| {
            domino::create(
                &secret,
                black_box(DOMINO_USER),
                black_box(DOMINO_CREATED_S),
                black_box(DOMINO_EXPIRES_S),
            )
        })
    });
    group.bench_function("verifier auto-detect ltpa2", |b| {
        b.iter(|| verifier.verify(black_box(&ltpa2_token), None, black_box(&websphere_at)))
    });
    group.bench_function("verifier auto-detect ltpa2 (with domino secret)", |b| {
        b.iter(|| {
            verifier_with_domino.verify(black_box(&ltpa2_token), None, black_box(&websphere_at))
        })
    });
    group.bench_function("key file parse", |b| {
        b.iter(|| KeyFile::parse(black_box(&key_bytes), &password, key_path))
    });
    group.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
