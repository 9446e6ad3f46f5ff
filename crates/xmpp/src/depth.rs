//! A limit on how deeply a client's XML nests. The parser builds each
//! element as a tree, and building and dropping a tree recurse once per
//! level: a stanza of a few hundred kilobytes of `<a><a><a>…` overflowed
//! the stack and took the whole server down. This scanner follows the
//! bytes as they are read, before the parser sees them, and counts the
//! open elements; the read fails once they go deeper than [`MAX_DEPTH`].
//!
//! It knows just enough XML not to be fooled: tags, quoted attribute
//! values (which may hold `>`), CDATA sections (which may hold `</a>`
//! that closes nothing), comments, processing instructions and
//! declarations (which the parser refuses anyway). Public for the fuzz
//! target.

/// Most elements open at once, the stream's root included. Stanzas in
/// the wild nest about ten deep (a data form in a command in an iq).
pub const MAX_DEPTH: usize = 64;

/// What the scanner is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Just read `<`.
    Open,
    /// Inside a start tag; the quote of the attribute value it is in,
    /// and whether the last byte outside quotes was `/`.
    StartTag {
        quote: Option<u8>,
        slash: bool,
    },
    /// Inside an end tag.
    EndTag,
    /// Read `<!` and this many bytes of what follows (`[CDATA[` or
    /// `--`), all of which still match one of them.
    Bang {
        read: usize,
        cdata: bool,
        comment: bool,
    },
    /// Inside a CDATA section, after this many `]`.
    CData {
        brackets: usize,
    },
    /// Inside a comment, after this many `-`.
    Comment {
        dashes: usize,
    },
    /// Inside `<?…?>`, after a `?` or not.
    Instruction {
        question: bool,
    },
    /// Inside another `<!…>` (a DTD the parser refuses).
    Declaration,
}

/// The nesting so far of one XML stream.
#[derive(Debug, Clone)]
pub struct Depth {
    state: State,
    open: usize,
}

impl Default for Depth {
    fn default() -> Self {
        Self { state: State::Text, open: 0 }
    }
}

/// The XML nests deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

impl Depth {
    /// Follows `bytes`, the next ones of the stream.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), TooDeep> {
        for &byte in bytes {
            self.state = self.next(byte)?;
        }
        Ok(())
    }

    fn next(&mut self, byte: u8) -> Result<State, TooDeep> {
        Ok(match (self.state, byte) {
            (State::Text, b'<') => State::Open,
            (State::Text, _) => State::Text,
            (State::Open, b'/') => {
                self.open = self.open.saturating_sub(1);
                State::EndTag
            }
            (State::Open, b'!') => State::Bang { read: 0, cdata: true, comment: true },
            (State::Open, b'?') => State::Instruction { question: false },
            (State::Open, _) => {
                self.open += 1;
                if self.open > MAX_DEPTH {
                    return Err(TooDeep);
                }
                State::StartTag { quote: None, slash: false }
            }
            (State::StartTag { quote: Some(q), .. }, b) if b == q => {
                State::StartTag { quote: None, slash: false }
            }
            (State::StartTag { quote: Some(q), .. }, _) => {
                State::StartTag { quote: Some(q), slash: false }
            }
            (State::StartTag { quote: None, slash }, b'>') => {
                if slash {
                    self.open = self.open.saturating_sub(1);
                }
                State::Text
            }
            (State::StartTag { quote: None, .. }, b @ (b'"' | b'\'')) => {
                State::StartTag { quote: Some(b), slash: false }
            }
            (State::StartTag { quote: None, .. }, b) => {
                State::StartTag { quote: None, slash: b == b'/' }
            }
            (State::EndTag, b'>') => State::Text,
            (State::EndTag, _) => State::EndTag,
            (State::Bang { read, cdata, comment }, b) => {
                let cdata = cdata && b"[CDATA[".get(read) == Some(&b);
                let comment = comment && b"--".get(read) == Some(&b);
                match (cdata, comment) {
                    (true, _) if read + 1 == 7 => State::CData { brackets: 0 },
                    (_, true) if read + 1 == 2 => State::Comment { dashes: 0 },
                    (false, false) if b == b'>' => State::Text,
                    (false, false) => State::Declaration,
                    _ => State::Bang { read: read + 1, cdata, comment },
                }
            }
            (State::CData { brackets }, b']') => State::CData { brackets: brackets + 1 },
            (State::CData { brackets }, b'>') if brackets >= 2 => State::Text,
            (State::CData { .. }, _) => State::CData { brackets: 0 },
            (State::Comment { dashes }, b'-') => State::Comment { dashes: dashes + 1 },
            (State::Comment { dashes }, b'>') if dashes >= 2 => State::Text,
            (State::Comment { .. }, _) => State::Comment { dashes: 0 },
            (State::Instruction { question: true }, b'>') => State::Text,
            (State::Instruction { .. }, b) => State::Instruction { question: b == b'?' },
            (State::Declaration, b'>') => State::Text,
            (State::Declaration, _) => State::Declaration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    fn open_after(xml: &str) -> Result<usize, TooDeep> {
        let mut depth = Depth::default();
        depth.feed(xml.as_bytes())?;
        Ok(depth.open)
    }

    #[test]
    fn stanzas_of_every_day_pass_and_leave_the_stream_open() {
        let stanzas = "<message to='a@b' id='x&gt;'><body>1 &lt; 2 > 0</body>\
            <x xmlns='jabber:x:data' type=\"submit\"><field var='a/b'><value>v</value></field></x>\
            <br/><active xmlns='http://jabber.org/protocol/chatstates' /></message>\
            <iq type='get'><query xmlns='jabber:iq:roster'/></iq>";
        assert_eq!(open_after(&format!("{HEADER}{stanzas}")), Ok(1));
        // Byte by byte, as a slow client sends it.
        let mut depth = Depth::default();
        for byte in format!("{HEADER}{stanzas}").bytes() {
            depth.feed(&[byte]).unwrap();
        }
        assert_eq!(depth.open, 1);
    }

    #[test]
    fn deep_nesting_is_refused_at_the_limit() {
        let just = "<a>".repeat(MAX_DEPTH - 1);
        assert_eq!(open_after(&format!("{HEADER}{just}")), Ok(MAX_DEPTH));
        assert_eq!(open_after(&format!("{HEADER}{just}<a>")), Err(TooDeep));
        assert_eq!(open_after(&format!("{HEADER}{}", "<a>".repeat(60_000))), Err(TooDeep));
    }

    #[test]
    fn what_only_looks_like_a_tag_is_not_counted() {
        // End tags hidden in a CDATA section, an attribute value or a
        // comment close nothing: they cannot make room for more nesting.
        for hidden in [
            "<![CDATA[</a></a></a>]]]]>",
            "<a b='</a></a>' c=\"/>\"/>",
            "<!-- </a></a> -- -->",
            "<?pi </a></a>?>",
        ] {
            let xml = format!("{HEADER}{hidden}{}", "<a>".repeat(MAX_DEPTH - 1));
            assert_eq!(open_after(&xml), Ok(MAX_DEPTH), "{hidden}");
            assert_eq!(open_after(&format!("{xml}<a>")), Err(TooDeep), "{hidden}");
        }
        assert_eq!(open_after("<!DOCTYPE x [<!ENTITY a 'b'>]><r>"), Ok(1));
    }
}
