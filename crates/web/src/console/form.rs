//! The console's forms as the guard has read them (whole, within its
//! limit): URL-encoded, or `multipart/form-data` for the forms that
//! upload a file (the LTPA key import).

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use zeroize::Zeroizing;

/// A form's fields, in order; values are wiped when dropped (they may be
/// passwords or keys).
pub(crate) struct Fields(Vec<(String, Zeroizing<Vec<u8>>)>);

impl Fields {
    /// The fields of a body of the type `headers` name; `None` for a
    /// multipart body that does not parse.
    pub(crate) async fn read(headers: &HeaderMap, body: Bytes) -> Option<Self> {
        let boundary = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| multer::parse_boundary(value).ok());
        let Some(boundary) = boundary else {
            let fields = form_urlencoded::parse(&body)
                .map(|(name, value)| (name.into_owned(), Zeroizing::new(value.as_bytes().to_vec())))
                .collect();
            return Some(Self(fields));
        };
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut form = multer::Multipart::new(stream, boundary);
        let mut fields = Vec::new();
        while let Some(field) = form.next_field().await.ok()? {
            let name = field.name().unwrap_or_default().to_owned();
            fields.push((name, Zeroizing::new(field.bytes().await.ok()?.to_vec())));
        }
        Some(Self(fields))
    }

    /// The first field of that name, as bytes (empty when absent).
    pub(crate) fn bytes(&self, name: &str) -> &[u8] {
        self.0.iter().find(|(field, _)| field == name).map_or(&[], |(_, value)| value.as_slice())
    }

    /// The first field of that name, as text (empty when absent or not UTF-8).
    pub(crate) fn text(&self, name: &str) -> &str {
        std::str::from_utf8(self.bytes(name)).unwrap_or_default()
    }
}
