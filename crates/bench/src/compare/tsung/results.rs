//! What a Tsung run wrote: the counters of `tsung.log` and the samples of
//! `tsung-fullstats.log`.
//!
//! `tsung.log` (the text backend, one block every 10 s) holds counters as
//! `stats: NAME THIS_PERIOD TOTAL` and samples as `stats: NAME COUNT MEAN
//! STDDEV MAX MIN GLOBAL_MEAN GLOBAL_COUNT`: per period only, so no
//! percentile can be had from it. The `fullstats` backend also writes
//! every sample as an Erlang term (`{sample,tr_login,[12.3,4.5]}` or lists
//! of such tuples, pretty-printed over several lines), from which the
//! percentiles below are computed exactly. Counters are read from
//! `tsung.log`, whose last block has every counter's total; samples from
//! `tsung-fullstats.log`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::stats::Latencies;

/// The totals of `tsung.log`'s counters: the last `stats: NAME N TOTAL`
/// line of each name (sample lines, with eight numbers, are left out).
pub fn counters(log: &str) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("stats: ") else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if let [name, _, total] = fields[..]
            && let Ok(total) = total.parse::<u64>()
        {
            totals.insert(name.to_owned(), total);
        }
    }
    totals
}

/// Every sample of every plain (atom) name in `tsung-fullstats.log`, in
/// milliseconds; the os_mon samples (named by a tuple) are left out.
pub fn samples(fullstats: &str) -> BTreeMap<String, Vec<f64>> {
    let mut found = BTreeMap::new();
    let mut parser = Parser { text: fullstats.as_bytes(), at: 0 };
    while let Some(term) = parser.term() {
        collect(&term, &mut found);
    }
    found
}

/// The distribution of samples in milliseconds, as simul-bench's own
/// scenarios report theirs.
pub fn latencies(samples: &[f64]) -> Option<Latencies> {
    let mut durations: Vec<Duration> =
        samples.iter().map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)).collect();
    Latencies::of(&mut durations)
}

/// Adds the samples of `{sample, Name, Value | [Value]}` tuples, at the
/// top or in a top-level list.
fn collect(term: &Term, found: &mut BTreeMap<String, Vec<f64>>) {
    match term {
        Term::List(items) => items.iter().for_each(|item| collect(item, found)),
        Term::Tuple(items) => {
            if let [Term::Atom(kind), Term::Atom(name), value] = &items[..]
                && kind == "sample"
            {
                let into = found.entry(name.clone()).or_default();
                match value {
                    Term::Number(n) => into.push(*n),
                    Term::List(values) => into.extend(values.iter().filter_map(Term::number)),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The Erlang terms Tsung prints with `~p`, as far as its statistics use
/// them.
#[derive(Debug, PartialEq)]
enum Term {
    Atom(String),
    Number(f64),
    Text,
    Tuple(Vec<Term>),
    List(Vec<Term>),
}

impl Term {
    fn number(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Deepest nesting read: Tsung's terms are two or three levels deep.
const MAX_DEPTH: usize = 16;

/// A reader of a sequence of terms, each ended by a full stop or not.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    /// The next top-level term; `None` at the end or at text it cannot
    /// read (the rest is then skipped).
    fn term(&mut self) -> Option<Term> {
        self.skip(|c| c.is_ascii_whitespace() || c == b'.');
        if self.at >= self.text.len() {
            return None;
        }
        let term = self.value(0);
        if term.is_none() {
            self.at = self.text.len();
        }
        term
    }

    fn value(&mut self, depth: usize) -> Option<Term> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip(|c| c.is_ascii_whitespace());
        let first = *self.text.get(self.at)?;
        match first {
            b'{' | b'[' => {
                let close = if first == b'{' { b'}' } else { b']' };
                self.at += 1;
                let mut items = Vec::new();
                self.skip(|c| c.is_ascii_whitespace());
                if *self.text.get(self.at)? != close {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip(|c| c.is_ascii_whitespace());
                        match *self.text.get(self.at)? {
                            b',' => self.at += 1,
                            c if c == close => break,
                            _ => return None,
                        }
                    }
                }
                self.at += 1;
                Some(if first == b'{' { Term::Tuple(items) } else { Term::List(items) })
            }
            b'"' | b'\'' => {
                let start = self.at + 1;
                self.at = start;
                while *self.text.get(self.at)? != first {
                    self.at += if self.text[self.at] == b'\\' { 2 } else { 1 };
                }
                self.at += 1;
                if first == b'"' {
                    Some(Term::Text)
                } else {
                    let atom = String::from_utf8_lossy(&self.text[start..self.at - 1]);
                    Some(Term::Atom(atom.into_owned()))
                }
            }
            b'a'..=b'z' => {
                let word = self.word(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'@');
                Some(Term::Atom(word))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                self.at += 1;
                self.skip(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'));
                std::str::from_utf8(&self.text[start..self.at]).ok()?.parse().ok().map(Term::Number)
            }
            _ => None,
        }
    }

    fn word(&mut self, part: impl Fn(u8) -> bool) -> String {
        let start = self.at;
        self.skip(part);
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.text.get(self.at).is_some_and(|&c| what(c)) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of a real run (Tsung 1.7.0 against Prosody, 5 users).
    const LOG: &str = "\
# stats: dump at 1796590119
stats: users 0 5
stats: {cpu,\"tsung_controller@vm\"} 1 84.48898878251131 0 84.48898878251131 84.48898878251131 0 0
stats: session 5 5533.3712 130.4147615362613 5790.767 5437.353 0 0
stats: users_count 5 5
stats: error_connection_closed 2 2
stats: tr_login 5 1419.1996 26.775107907158805 1448.392 1373.255 0 0
# stats: dump at 1796590122
stats: users_count 0 5
stats: error_connection_closed 1 3
stats: nomatch 0 5
stats: tr_login 0 0 0 1448.392 1373.255 1419.1996 5
EndMonitor:{1796,590122,429907}
";

    const FULLSTATS: &str = "\
[{sample,{cpu,\"tsung_controller@vm\"},84.48898878251131},
 {sum,connected,5}]
{sample,connect,[11.058,6.533,3.138,2.966,0.477]}
{sample,request,
        [9.96,9.935,
         3.555,1.0e-3]}
[{sample,tr_roster,10.246},
 {sample,tr_login,1406.778},
 {sample,'xmpp_msg_latency',0.736}]
[{sample,tr_chat,1.16";

    #[test]
    fn counters_are_the_last_totals() {
        let totals = counters(LOG);
        assert_eq!(totals.get("users_count"), Some(&5));
        assert_eq!(totals.get("error_connection_closed"), Some(&3));
        assert_eq!(totals.get("nomatch"), Some(&5));
        assert!(!totals.contains_key("tr_login"), "a sample line is no counter");
        assert!(!totals.contains_key("session"));
    }

    #[test]
    fn samples_are_read_across_lines_and_a_cut_end_is_left_out() {
        let found = samples(FULLSTATS);
        assert_eq!(found["connect"], [11.058, 6.533, 3.138, 2.966, 0.477]);
        assert_eq!(found["request"], [9.96, 9.935, 3.555, 0.001]);
        assert_eq!(found["tr_roster"], [10.246]);
        assert_eq!(found["xmpp_msg_latency"], [0.736]);
        assert!(!found.contains_key("tr_chat"), "the cut list is not read");
        assert!(!found.contains_key("cpu"));
    }

    #[test]
    fn garbage_and_deep_nesting_end_the_reading() {
        assert!(samples("{sample,x,[1,2}").is_empty());
        assert!(samples(&"[".repeat(100_000)).is_empty());
        assert!(samples("{sample,x,1} ??? {sample,y,2}")["x"] == [1.0]);
        assert!(samples("").is_empty());
    }

    #[test]
    fn latencies_are_in_milliseconds() {
        let latencies = latencies(&[1.0, 2.0, 3.0, 4.0]).expect("samples");
        assert_eq!(latencies.count, 4);
        assert_eq!(latencies.max, Duration::from_millis(4));
        assert_eq!(latencies.p50, Duration::from_millis(2));
    }
}
