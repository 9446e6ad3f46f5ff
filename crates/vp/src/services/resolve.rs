//! Resolve, service 0x15 (spec §6.2): names typed by users to user ids.
//!
//! One send type, [`SEND_TYPE`], both ways: [`Request`] C→S and
//! [`Response`] S→C. Pidgin accepts a result silently only when the
//! overall code is 0 and the first result has exactly one match whose id
//! equals the query (trap 9.29).

use crate::encoding::{Block, DecodeError, EncodeError, Reader, Writer};
use crate::reason::ErrorCode;

use super::unknown_send_type;

/// The send type of requests and responses (`RESOLVE_ACTION`).
pub const SEND_TYPE: u16 = 0x0002;

/// Request flags.
pub mod flags {
    /// Unique results or none.
    pub const UNIQUE: u32 = 0x01;
    /// Only the first result.
    pub const FIRST: u32 = 0x02;
    /// Search every directory.
    pub const ALL_DIRS: u32 = 0x04;
    /// Look for users.
    pub const USERS: u32 = 0x08;
    /// Look for groups.
    pub const GROUPS: u32 = 0x10;
}

/// Overall response codes (also in [`ErrorCode`]).
pub mod code {
    /// Every query resolved.
    pub const SUCCESS: u32 = 0x0000_0000;
    /// Some queries resolved.
    pub const PARTIAL: u32 = 0x0001_0000;
    /// Several matches where one was asked for.
    pub const MULTIPLE: u32 = 0x8002_0000;
    /// A badly formed query.
    pub const BAD_FORMAT: u32 = 0x8003_0000;
}

/// Kinds of match.
pub mod match_type {
    /// A user.
    pub const USER: u32 = 1;
    /// A group.
    pub const GROUP: u32 = 2;
}

/// C→S: resolve these names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Echoed in the response.
    pub search_id: u32,
    /// Names to resolve.
    pub queries: Vec<String>,
    /// [`flags`].
    pub flags: u32,
}

/// S→C: the results, one per query, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// The request's id.
    pub search_id: u32,
    /// Overall [`code`].
    pub code: u32,
    /// One result per query.
    pub results: Vec<QueryResult>,
}

/// The result for one query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryResult {
    /// 0, or [`ErrorCode::NoElement`] for a query without match.
    pub code: u32,
    /// The query.
    pub name: String,
    /// What it matched.
    pub matches: Vec<Match>,
}

impl QueryResult {
    /// The result of a query that matched nothing: `code` ERR_NO_ELEMENT
    /// (uncertain which code real servers used; clients ignore it, §6.2).
    pub fn miss(query: impl Into<String>) -> Self {
        Self { code: ErrorCode::NoElement.code(), name: query.into(), matches: Vec::new() }
    }
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Match {
    /// The canonical user (or group) id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// [`match_type`].
    pub kind: u32,
}

impl Request {
    /// Reads a request.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        check(send_type)?;
        Self::from_bytes(data)
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        Ok((SEND_TYPE, self.to_bytes()?))
    }
}

impl Response {
    /// Reads a response.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        check(send_type)?;
        Self::from_bytes(data)
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        Ok((SEND_TYPE, self.to_bytes()?))
    }
}

fn check(send_type: u16) -> Result<(), DecodeError> {
    if send_type == SEND_TYPE { Ok(()) } else { Err(unknown_send_type(send_type)) }
}

impl Block for Request {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("resolve reserved")?;
        let search_id = r.u32("search_id")?;
        let count = r.count("resolve queries", 2)?;
        let queries = (0..count).map(|_| r.string("resolve query")).collect::<Result<_, _>>()?;
        let flags = r.u32("resolve flags")?;
        Ok(Self { search_id, queries, flags })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(0).u32(self.search_id).count("resolve queries", self.queries.len());
        for query in &self.queries {
            w.str("resolve query", query);
        }
        w.u32(self.flags);
    }
}

/// Smallest result: reserved, code, empty name, match count.
const MIN_RESULT: usize = 4 + 4 + 2 + 4;
/// Smallest match: three empty strings and a type.
const MIN_MATCH: usize = 2 + 2 + 2 + 4;

impl Block for Response {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("resolve unknown")?;
        let search_id = r.u32("search_id")?;
        let code = r.u32("resolve code")?;
        let count = r.count("resolve results", MIN_RESULT)?;
        let results = (0..count)
            .map(|_| {
                r.u32("result reserved")?;
                let code = r.u32("result code")?;
                let name = r.string("result name")?;
                let count = r.count("result matches", MIN_MATCH)?;
                let matches = (0..count)
                    .map(|_| {
                        Ok(Match {
                            id: r.string("match id")?,
                            name: r.text("match name")?,
                            desc: r.text("match desc")?,
                            kind: r.u32("match type")?,
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?;
                Ok(QueryResult { code, name, matches })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self { search_id, code, results })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(0).u32(self.search_id).u32(self.code).count("resolve results", self.results.len());
        for result in &self.results {
            w.u32(0)
                .u32(result.code)
                .str("result name", &result.name)
                .count("result matches", result.matches.len());
            for m in &result.matches {
                w.str("match id", &m.id)
                    .str("match name", &m.name)
                    .str("match desc", &m.desc)
                    .u32(m.kind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn request_layout() {
        let data = hex("00000000 00000007 00000001 0003 626f62 0000000a");
        let request = Request::decode(SEND_TYPE, &data).unwrap();
        assert_eq!(
            request,
            Request {
                search_id: 7,
                queries: vec!["bob".into()],
                flags: flags::FIRST | flags::USERS
            }
        );
        assert_eq!(request.encode().unwrap(), (SEND_TYPE, data));
    }

    #[test]
    fn hit_and_miss_response() {
        let response = Response {
            search_id: 7,
            code: code::SUCCESS,
            results: vec![
                QueryResult {
                    code: 0,
                    name: "bob".into(),
                    matches: vec![Match {
                        id: "bob".into(),
                        name: "Bob".into(),
                        desc: String::new(),
                        kind: match_type::USER,
                    }],
                },
                QueryResult::miss("nobody"),
            ],
        };
        let (send_type, data) = response.encode().unwrap();
        assert_eq!(
            data,
            hex("00000000 00000007 00000000 00000002
                 00000000 00000000 0003 626f62 00000001 0003 626f62 0003 426f62 0000 00000001
                 00000000 80000005 0006 6e6f626f6479 00000000")
        );
        assert_eq!(Response::decode(send_type, &data).unwrap(), response);
    }
}
