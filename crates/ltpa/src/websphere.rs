//! The token structure LtpaToken2 and WebSphere's LtpaToken (v1) share:
//! Base64 of ciphertext of `userdata % expiry_ms % base64(signature)`.
//! The two differ only in cipher and signature scheme, which a [`Flavor`]
//! supplies; creating, opening and checking are written once here.

use zeroize::Zeroizing;

use crate::encoding;
use crate::keys::LtpaKeys;
use crate::token::{
    CheckRunner, Identity, Inspection, Invalid, TokenFormat, VerifyOptions, rfc3339,
};
use crate::userdata::{EXPIRE_ATTRIBUTE, USER_ATTRIBUTE, UserData};

/// Cipher and signature of one WebSphere token format.
pub(crate) trait Flavor {
    /// Which format this is.
    const FORMAT: TokenFormat;
    /// Cipher block size: ciphertext is a whole number of blocks.
    const BLOCK: usize;
    /// Whether the user data carries an `expire` attribute (v2 does, v1 not).
    const EXPIRE_ATTRIBUTE: bool;
    /// Encrypts the plaintext with the shared key.
    fn encrypt(keys: &LtpaKeys, plain: &[u8]) -> Vec<u8>;
    /// Decrypts; `None` on a padding error.
    fn decrypt(keys: &LtpaKeys, cipher: &[u8]) -> Option<Zeroizing<Vec<u8>>>;
    /// Signs the user-data bytes.
    fn sign(keys: &LtpaKeys, userdata: &[u8]) -> Vec<u8>;
    /// Whether `signature` is valid for the user-data bytes.
    fn signature_valid(keys: &LtpaKeys, userdata: &[u8], signature: &[u8]) -> bool;
}

/// Creates a token naming `data`'s user, expiring at `expires_ms`.
pub(crate) fn create<F: Flavor>(keys: &LtpaKeys, data: &UserData, expires_ms: i64) -> String {
    let mut data = data.clone();
    if F::EXPIRE_ATTRIBUTE {
        data.set(EXPIRE_ATTRIBUTE, vec![expires_ms.to_string()]);
    } else {
        data.remove(EXPIRE_ATTRIBUTE);
    }
    let userdata = data.to_wire();
    let signature = encoding::encode(&F::sign(keys, userdata.as_bytes()));
    let plain = Zeroizing::new(format!("{userdata}%{expires_ms}%{signature}"));
    encoding::encode(&F::encrypt(keys, plain.as_bytes()))
}

/// A decrypted token split into its fields.
struct Opened {
    userdata: String,
    data: UserData,
    expiry_field: Option<i64>,
    signature_text: String,
    signature: Vec<u8>,
}

/// Decodes and decrypts a token; fails only when nothing can be read.
fn open<F: Flavor>(keys: &LtpaKeys, token: &str) -> Result<Opened, Invalid> {
    let cipher = decode_token_text(token)?;
    if cipher.is_empty() || cipher.len() % F::BLOCK != 0 {
        return Err(Invalid::Malformed(format!(
            "{} bytes is not a whole number of {}-byte cipher blocks, so this is not an {} token",
            cipher.len(),
            F::BLOCK,
            F::FORMAT
        )));
    }
    let plain = F::decrypt(keys, &cipher).ok_or_else(|| {
        Invalid::WrongKey(format!(
            "the {} token does not decrypt with these keys: it was made with other LTPA keys \
             (import the issuing server's keys) or it was damaged",
            F::FORMAT
        ))
    })?;
    let plain = std::str::from_utf8(&plain)
        .map_err(|_| Invalid::Malformed("the decrypted token is not UTF-8 text".into()))?;
    let (head, signature_text) = plain
        .rsplit_once('%')
        .ok_or_else(|| Invalid::Malformed("the decrypted token has no '%' separators".into()))?;
    // `userdata % expiry % signature`, or Liberty's two-field `userdata % signature`.
    let (userdata, expiry_field) = match head.rsplit_once('%') {
        Some((userdata, expiry)) if is_decimal(expiry) => {
            let expiry = expiry.parse().map_err(|_| {
                Invalid::Malformed(format!("expiry field {expiry:?} is out of range"))
            })?;
            (userdata, Some(expiry))
        }
        _ => (head, None),
    };
    let signature = encoding::decode(signature_text)
        .map_err(|_| Invalid::Malformed("the signature field is not Base64".into()))?;
    let data = UserData::parse(userdata).map_err(|e| Invalid::Malformed(e.to_string()))?;
    Ok(Opened {
        userdata: userdata.to_owned(),
        data,
        expiry_field,
        signature_text: signature_text.to_owned(),
        signature,
    })
}

/// A Java `Long.toString()`: optional minus sign, then digits.
fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Base64 text of a token as found in a cookie: surrounding quotes (RFC
/// 2965 cookies) and URL-encoding (some clients) are undone first.
pub(crate) fn decode_token_text(token: &str) -> Result<Vec<u8>, Invalid> {
    let token = token.trim();
    let token = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(token);
    let unescaped;
    let token = if token.contains('%') {
        unescaped = percent_decode(token)?;
        unescaped.as_str()
    } else {
        token
    };
    encoding::decode(token).map_err(|e| Invalid::Malformed(format!("not Base64: {e}")))
}

fn percent_decode(text: &str) -> Result<String, Invalid> {
    let bad = || Invalid::Malformed("bad %-escape in the token".into());
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Opens a token and runs its checks in the order verification applies
/// them: all of them, or (`stop_at_failure`) up to the first failure.
pub(crate) fn examine<F: Flavor>(
    keys: &LtpaKeys,
    token: &str,
    options: &VerifyOptions,
    stop_at_failure: bool,
) -> Result<Inspection, Invalid> {
    inspect_opened::<F>(keys, open::<F>(keys, token)?, options, stop_at_failure)
}

fn inspect_opened<F: Flavor>(
    keys: &LtpaKeys,
    opened: Opened,
    options: &VerifyOptions,
    stop_at_failure: bool,
) -> Result<Inspection, Invalid> {
    let mut runner = CheckRunner::new(stop_at_failure);
    // Only `inspect` shows the fields; `verify` discards them.
    let fields = if stop_at_failure { Vec::new() } else { fields(&opened) };
    let access_id = opened.data.access_id();
    let expires = expiry(&opened, options);
    let identity = match (&access_id, &expires) {
        (Ok(access_id), Ok(expires_ms)) => Some(Identity {
            format: F::FORMAT,
            user: access_id.unique_id.clone(),
            realm: Some(access_id.realm.clone()),
            access_id: Some(access_id.clone()),
            expires_ms: *expires_ms,
            created_ms: None,
            attributes: opened
                .data
                .attributes()
                .iter()
                .filter(|(k, _)| *k != USER_ATTRIBUTE && *k != EXPIRE_ATTRIBUTE)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }),
        _ => None,
    };
    let _ = runner.run("signature", signature::<F>(keys, &opened))
        || runner.run("expiry fields", expires.clone().map(drop))
        || runner.run("expiry", expires.and_then(|e| options.check_expiry(e)))
        || runner.run(
            "user",
            access_id.as_ref().map(drop).map_err(|e| Invalid::Malformed(e.to_string())),
        )
        || runner.run("realm", access_id.map_or(Ok(()), |id| options.check_realm(&id.realm)));
    Ok(Inspection { format: F::FORMAT, fields, checks: runner.into_checks(), identity })
}

/// The signature must match the received user data or, failing that, its
/// canonical re-serialization (Liberty signs and verifies the latter).
fn signature<F: Flavor>(keys: &LtpaKeys, opened: &Opened) -> Result<(), Invalid> {
    if F::signature_valid(keys, opened.userdata.as_bytes(), &opened.signature) {
        return Ok(());
    }
    let canonical = opened.data.to_wire();
    if canonical != opened.userdata
        && F::signature_valid(keys, canonical.as_bytes(), &opened.signature)
    {
        return Ok(());
    }
    Err(Invalid::BadSignature(format!(
        "the {} token decrypts but its signature does not match its content: \
         it was altered, or signed with another key pair",
        F::FORMAT
    )))
}

/// The token's expiry: the expiry field and the `expire` attribute must agree.
fn expiry(opened: &Opened, options: &VerifyOptions) -> Result<i64, Invalid> {
    let attribute = opened.data.expire_ms().map_err(|e| Invalid::Malformed(e.to_string()))?;
    match (attribute, opened.expiry_field) {
        (Some(a), Some(f)) => match options.expiration_difference_ms {
            Some(allowed) if a.abs_diff(f) > allowed.unsigned_abs() => {
                Err(Invalid::Malformed(format!(
                    "the expire attribute ({a}) and the expiry field ({f}) differ by more than {allowed} ms"
                )))
            }
            _ => Ok(a),
        },
        (Some(e), None) | (None, Some(e)) => Ok(e),
        (None, None) => Err(Invalid::Malformed("the token has no expiry".into())),
    }
}

fn fields(opened: &Opened) -> Vec<(String, String)> {
    let mut fields = vec![("userdata".to_owned(), opened.userdata.clone())];
    for (key, values) in opened.data.attributes() {
        fields.push((format!("attribute {key}"), values.join(" | ")));
    }
    if let Some(expiry) = opened.expiry_field {
        fields.push(("expiry".into(), format!("{expiry} ({})", rfc3339(expiry))));
    }
    fields.push(("signature".into(), opened.signature_text.clone()));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_quoting_and_url_encoding_are_undone() {
        assert_eq!(decode_token_text("\"QUJD\"").unwrap(), b"ABC");
        assert_eq!(decode_token_text("QUI%3D").unwrap(), b"AB");
        assert_eq!(decode_token_text(" QUI= ").unwrap(), b"AB");
        assert!(decode_token_text("QUI%3").is_err());
        assert!(decode_token_text("QUI%ZZ").is_err());
        assert_eq!(decode_token_text("not base64!").unwrap_err().reason(), "malformed");
    }
}
