//! History pages and full-text search on a large store (BENCHMARKS.md):
//!
//! ```text
//! cargo run --release -p simul-store --example history_search_bench -- /tmp/bench.db 1000000
//! ```
//!
//! Fills the database (once: an existing file is reused) with that many
//! messages, 70 % 1:1 among 2,000 people and 30 % in 300 n-way chats of
//! 8 members, their words drawn from a vocabulary of 20,000 with Zipf's
//! law as in people's writing (a few words everywhere, most words rare);
//! then times the newest and a deep history page, 1:1 and n-way, and
//! searches for a common word, a rare one, two words, a half-typed one
//! and a word nobody wrote, each as one user with their chats.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use simul_store::{HistoryPage, PageStart, SearchQuery, Store};
use sqlx::Connection as _;

const PEOPLE: u64 = 2_000;
const CHATS: u64 = 300;
const CHAT_MEMBERS: u64 = 8;
const VOCABULARY: usize = 20_000;
const ROUNDS: usize = 50;

/// A small, fixed pseudo-random sequence (xorshift64*): the same store
/// every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A rank from 0 to `n`, rank r about 1/(r+1) as likely (Zipf).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64 + 1.0).powf(u) - 1.0) as usize
    }
}

/// Word `rank` of the vocabulary: pronounceable, distinct, the common
/// ones short.
fn word(rank: usize) -> String {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ne", "ro", "ta", "vi", "su", "de", "pa", "go", "li", "ba", "te", "mo",
        "ri", "sa", "nu", "fe", "di", "po", "ha", "ze", "cu",
    ];
    let mut n = rank + 1;
    let mut word = String::new();
    while n > 0 {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    word
}

async fn fill(path: &Path, messages: u64) {
    let store = Store::open(path).await.unwrap();
    for chat in 1..=CHATS {
        let record = simul_store::ChatRecord {
            id: chat,
            topic: format!("chat {chat}"),
            creator: format!("user{}", chat % PEOPLE),
            created_at: Utc::now(),
        };
        store.record_chat(&record).await.unwrap();
    }
    store.checkpoint_and_close().await.unwrap();
    let mut connection =
        sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut id = 0;
    while id < messages {
        let mut transaction = connection.begin().await.unwrap();
        for _ in 0..10_000.min(messages - id) {
            id += 1;
            let length = 4 + random.below(16);
            let text: Vec<String> = (0..length).map(|_| word(random.zipf(VOCABULARY))).collect();
            let text = text.join(" ");
            let at = Utc.timestamp_opt(1_700_000_000 + id as i64, 0).unwrap();
            if random.below(10) < 7 {
                let (a, b) = (random.below(PEOPLE), random.below(PEOPLE));
                sqlx::query(
                    "INSERT INTO messages (id, sender, recipient, text, at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id as i64)
                .bind(format!("user{a}"))
                .bind(format!("user{b}"))
                .bind(text)
                .bind(at)
                .execute(&mut *transaction)
                .await
                .unwrap();
            } else {
                let chat = 1 + random.below(CHATS);
                sqlx::query(
                    "INSERT INTO nway_messages (id, chat, sender, text, at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id as i64)
                .bind(chat as i64)
                .bind(format!("user{}", member(chat, random.below(CHAT_MEMBERS))))
                .bind(text)
                .bind(at)
                .execute(&mut *transaction)
                .await
                .unwrap();
            }
        }
        transaction.commit().await.unwrap();
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
    println!("filled {messages} messages in {:.0?}", started.elapsed());
}

/// Member `n` of `chat`: eight people spread over everyone.
fn member(chat: u64, n: u64) -> u64 {
    (chat * 7 + n * 251) % PEOPLE
}

/// The median and the 95th percentile of `ROUNDS` runs of `run`.
async fn time<F, T>(what: &str, mut run: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(ROUNDS);
    let mut last = None;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        last = Some(run().await);
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<58} median {:>7.2} ms   p95 {:>7.2} ms",
        ms(times[ROUNDS / 2]),
        ms(times[ROUNDS * 95 / 100])
    );
    last.unwrap()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "bench.db".into()));
    let messages: u64 = args.next().map_or(1_000_000, |n| n.parse().unwrap());
    if !path.exists() {
        fill(&path, messages).await;
    }
    let size = std::fs::metadata(&path).unwrap().len();
    println!("database {} MB", size / 1_000_000);
    let store = Store::open(&path).await.unwrap();

    // A user of about average traffic, in the chats the fill put them in.
    let user = "user7";
    let chats: Vec<u64> = (1..=CHATS)
        .filter(|chat| (0..CHAT_MEMBERS).any(|n| format!("user{}", member(*chat, n)) == user))
        .collect();
    let partner = {
        let page = HistoryPage { limit: 1, ..HistoryPage::default() };
        store.im_page(user, &page).await.unwrap().messages[0].to.clone()
    };
    let deep = messages / 2;
    let page =
        |from| HistoryPage { with: Some(partner.clone()), from, limit: 200, ..Default::default() };
    let (newest, middle) = (page(PageStart::Newest), page(PageStart::Before(deep)));
    time("1:1 history, newest page (200)", || store.im_page(user, &newest)).await.unwrap();
    time("1:1 history, page before the middle id", || store.im_page(user, &middle)).await.unwrap();
    time("n-way history, newest page (200)", || store.chat_page(1, PageStart::Newest, 200))
        .await
        .unwrap();
    time("n-way history, page before the middle id", || {
        store.chat_page(1, PageStart::Before(deep), 200)
    })
    .await
    .unwrap();

    println!("searching as {user}, member of {} chats", chats.len());
    for (what, words) in [
        ("search: the most common word", vec![word(0)]),
        ("search: a common word (rank 50)", vec![word(50)]),
        ("search: a rare word (rank 15,000)", vec![word(15_000)]),
        ("search: two common words", vec![word(3), word(10)]),
        ("search: a half-typed word (2 letters)", vec![word(200)[..2].to_owned()]),
        ("search: a half-typed word (3 letters)", vec![word(200)[..3].to_owned()]),
        ("search: a word nobody wrote", vec!["zzzzqx".to_owned()]),
    ] {
        let query = SearchQuery { words: &words, before: None, limit: 50, since: None };
        let found =
            time(&format!("{what} ({})", words.join(" ")), || store.search(user, &chats, &query))
                .await
                .unwrap();
        println!("    {} results on the first page", found.len());
    }
}
