//! Active Directory's range retrieval: a group with more than 1,500
//! members (MaxValRange) answers a request for `member` with
//! `member;range=0-1499`, and the rest must be asked for as
//! `member;range=1500-*` until a range ends in `*`.

/// Where a ranged answer leaves off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// This was the last part (`;range=N-*`), or the answer had no range.
    Complete,
    /// More values follow, starting at this index.
    Continue(u64),
}

/// If `returned` is `attribute` or a range of it (`member;range=0-1499`),
/// where the answer leaves off; `None` for other attributes.
pub fn range_end(returned: &str, attribute: &str) -> Option<RangeEnd> {
    let (name, options) = match returned.split_once(';') {
        Some((name, options)) => (name, Some(options)),
        None => (returned, None),
    };
    if !name.eq_ignore_ascii_case(attribute) {
        return None;
    }
    let Some(options) = options else { return Some(RangeEnd::Complete) };
    let range = options.split(';').find_map(|option| {
        let (key, value) = option.split_once('=')?;
        key.eq_ignore_ascii_case("range").then_some(value)
    })?;
    let (low, high) = range.split_once('-')?;
    let low = low.parse::<u64>().ok()?;
    if high == "*" {
        return Some(RangeEnd::Complete);
    }
    // A range ending before it starts is nonsense, not a place to go on from.
    let high = high.parse::<u64>().ok().filter(|high| *high >= low)?;
    high.checked_add(1).map(RangeEnd::Continue)
}

/// The attribute to ask for to get values from `start` on.
pub fn ranged(attribute: &str, start: u64) -> String {
    format!("{attribute};range={start}-*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_where_to_go_on() {
        assert_eq!(range_end("member;range=0-1499", "member"), Some(RangeEnd::Continue(1500)));
        assert_eq!(range_end("Member;Range=1500-2999", "member"), Some(RangeEnd::Continue(3000)));
        assert_eq!(range_end("member;range=3000-*", "member"), Some(RangeEnd::Complete));
        assert_eq!(range_end("member", "member"), Some(RangeEnd::Complete));
        assert_eq!(ranged("member", 1500), "member;range=1500-*");
    }

    #[test]
    fn other_attributes_and_nonsense_are_not_ranges() {
        assert_eq!(range_end("memberOf;range=0-10", "member"), None);
        assert_eq!(range_end("member;binary", "member"), None);
        assert_eq!(range_end("member;range=0-", "member"), None);
        assert_eq!(range_end("member;range=0-18446744073709551615", "member"), None);
        // Found by fuzzing: a range that ends before it starts.
        assert_eq!(range_end("member;range=10-9", "member"), None);
        assert_eq!(range_end("member;range=x-9", "member"), None);
    }
}
