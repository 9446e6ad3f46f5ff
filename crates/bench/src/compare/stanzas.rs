//! Cuts what an XMPP server sends into top-level elements (stanzas and
//! nonzas), for a load generator that reads tens of thousands of them a
//! second and looks into few: a tag scanner, not an XML parser. It takes
//! well-formed XML, as every server under comparison sends, and says so
//! when it meets anything else rather than guess.

use anyhow::bail;

/// Reads top-level elements out of a stream's bytes as they come.
#[derive(Debug, Default)]
pub struct Splitter {
    /// Bytes read and not yet handed out.
    pending: Vec<u8>,
    /// Where scanning resumes in `pending`.
    scanned: usize,
    /// Where the element being read started.
    start: Option<usize>,
    /// Open elements: 1 inside the stream, 2 inside a stanza.
    depth: usize,
}

/// What the scanner found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// `<stream:stream …>`: a stream (re)opened.
    StreamOpened,
    /// A whole top-level element.
    Element(String),
    /// `</stream:stream>`: the server ended the stream.
    StreamClosed,
}

impl Splitter {
    /// Forgets everything: a stream restarts (after TLS or SASL).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Adds bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next whole piece, if the bytes fed so far hold one.
    ///
    /// # Errors
    ///
    /// When the bytes are not the XML of a stream (a tag closed at the
    /// top level, an unterminated tag over 1 MiB).
    pub fn next_piece(&mut self) -> anyhow::Result<Option<Piece>> {
        loop {
            let Some(open) = find(&self.pending[self.scanned..], b'<') else {
                if self.start.is_none() {
                    // Whitespace (keepalives) between elements.
                    self.pending.clear();
                    self.scanned = 0;
                } else {
                    self.scanned = self.pending.len();
                }
                return Ok(None);
            };
            let tag_start = self.scanned + open;
            let Some(length) = tag_length(&self.pending[tag_start..]) else {
                if self.pending.len() - tag_start > 1 << 20 {
                    bail!("a tag of over 1 MiB from the server");
                }
                self.scanned = tag_start;
                return Ok(None);
            };
            let tag = &self.pending[tag_start..tag_start + length];
            self.scanned = tag_start + length;
            match tag.get(1) {
                Some(b'?' | b'!') => continue,
                Some(b'/') => {
                    if self.depth <= 1 {
                        self.depth = 0;
                        self.consume();
                        return Ok(Some(Piece::StreamClosed));
                    }
                    self.depth -= 1;
                    if self.depth == 1 {
                        return Ok(Some(self.element()));
                    }
                }
                _ if self.depth == 0 => {
                    if !tag.starts_with(b"<stream:stream") {
                        bail!("expected a stream header, got {}", String::from_utf8_lossy(tag));
                    }
                    self.depth = 1;
                    self.consume();
                    return Ok(Some(Piece::StreamOpened));
                }
                _ => {
                    if self.depth == 1 {
                        self.start = Some(tag_start);
                    }
                    if tag.ends_with(b"/>") {
                        if self.depth == 1 {
                            return Ok(Some(self.element()));
                        }
                    } else {
                        self.depth += 1;
                    }
                }
            }
        }
    }

    /// Hands out the element from `start` to what was scanned.
    fn element(&mut self) -> Piece {
        let start = self.start.take().unwrap_or(0);
        let text = String::from_utf8_lossy(&self.pending[start..self.scanned]).into_owned();
        self.consume();
        Piece::Element(text)
    }

    /// Drops what was scanned.
    fn consume(&mut self) {
        self.pending.drain(..self.scanned);
        self.scanned = 0;
    }
}

fn find(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == byte)
}

/// The length of the tag at the start of `bytes` (up to its `>`, quoted
/// attribute values skipped), once it is all there.
fn tag_length(bytes: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Piece, Splitter};

    fn pieces(chunks: &[&str]) -> anyhow::Result<Vec<Piece>> {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk.as_bytes());
            while let Some(piece) = splitter.next_piece()? {
                out.push(piece);
            }
        }
        Ok(out)
    }

    fn element(text: &str) -> Piece {
        Piece::Element(text.to_owned())
    }

    #[test]
    fn elements_come_whole_however_the_bytes_are_cut() {
        let stream = "<?xml version='1.0'?><stream:stream from='localhost' xmlns='jabber:client'>\
             <stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features> \
             <presence from='a@localhost/r' to='b@localhost'/>\n\
             <message to='b' from='a'><body>x &gt; y, '&lt;'</body><x a='>' b=\"/>\"/></message>\
             </stream:stream>";
        let expected = vec![
            Piece::StreamOpened,
            element(
                "<stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            ),
            element("<presence from='a@localhost/r' to='b@localhost'/>"),
            element(
                "<message to='b' from='a'><body>x &gt; y, '&lt;'</body><x a='>' b=\"/>\"/></message>",
            ),
            Piece::StreamClosed,
        ];
        assert_eq!(pieces(&[stream]).unwrap(), expected);
        for cut in 1..stream.len() {
            if stream.is_char_boundary(cut) {
                let (a, b) = stream.split_at(cut);
                assert_eq!(pieces(&[a, b]).unwrap(), expected, "cut at {cut}");
            }
        }
    }

    #[test]
    fn what_is_not_a_stream_is_an_error_not_a_guess() {
        assert!(pieces(&["<html><body>"]).is_err());
        assert!(pieces(&["</stream:stream>"]).unwrap() == vec![Piece::StreamClosed]);
        let mut splitter = Splitter::default();
        splitter.feed(b"<stream:stream><message a='");
        splitter.feed(&vec![b'x'; 2 << 20]);
        assert_eq!(splitter.next_piece().unwrap(), Some(Piece::StreamOpened));
        assert!(splitter.next_piece().is_err(), "an endless tag is refused");
    }

    #[test]
    fn a_reset_starts_a_new_stream() {
        let mut splitter = Splitter::default();
        splitter.feed(b"<stream:stream><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        assert_eq!(splitter.next_piece().unwrap(), Some(Piece::StreamOpened));
        assert!(matches!(splitter.next_piece().unwrap(), Some(Piece::Element(_))));
        splitter.reset();
        splitter.feed(b"<stream:stream id='2'><stream:features/>");
        assert_eq!(splitter.next_piece().unwrap(), Some(Piece::StreamOpened));
        assert_eq!(splitter.next_piece().unwrap(), Some(element("<stream:features/>")));
    }
}
