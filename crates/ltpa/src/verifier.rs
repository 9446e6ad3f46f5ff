//! One entry point for every token a server may receive: it routes a token
//! to the right format and key set (several key sets are allowed, like
//! Liberty's validation keys, so tokens from a previous key set or from a
//! partner cell keep working during a key rollover).

use crate::domino::{self, DominoSecret};
use crate::keys::LtpaKeys;
use crate::token::{Identity, Inspection, Invalid, TokenFormat, VerifyOptions};
use crate::websphere::{self, Flavor};
use crate::{ltpa1::Ltpa1, ltpa2::Ltpa2};

/// Verifies tokens of any format with the keys and secret it holds.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    key_sets: Vec<LtpaKeys>,
    domino_secret: Option<DominoSecret>,
}

impl Verifier {
    /// A verifier with no keys; add them with the `with_` methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a WebSphere key set (the first added is tried first).
    pub fn with_keys(mut self, keys: LtpaKeys) -> Self {
        self.key_sets.push(keys);
        self
    }

    /// Sets the Domino Web SSO secret for Domino-format tokens.
    pub fn with_domino_secret(mut self, secret: DominoSecret) -> Self {
        self.domino_secret = Some(secret);
        self
    }

    /// Verifies `token` in `format`, or in whichever format it is when
    /// `format` is `None`.
    pub fn verify(
        &self,
        token: &str,
        format: Option<TokenFormat>,
        options: &VerifyOptions,
    ) -> Result<Identity, Invalid> {
        self.examine(token, format, options, true)?.into_result()
    }

    /// Opens `token` and reports all its fields and checks.
    pub fn inspect(
        &self,
        token: &str,
        format: Option<TokenFormat>,
        options: &VerifyOptions,
    ) -> Result<Inspection, Invalid> {
        self.examine(token, format, options, false)
    }

    fn examine(
        &self,
        token: &str,
        format: Option<TokenFormat>,
        options: &VerifyOptions,
        stop_at_failure: bool,
    ) -> Result<Inspection, Invalid> {
        let candidates = match format {
            Some(format) => vec![format],
            None if self.domino_secret.is_some() && domino::looks_like_domino(token) => {
                vec![TokenFormat::Domino]
            }
            None if self.domino_secret.is_some() => {
                vec![TokenFormat::Ltpa2, TokenFormat::Ltpa1, TokenFormat::Domino]
            }
            None => vec![TokenFormat::Ltpa2, TokenFormat::Ltpa1],
        };
        let mut best = None;
        for format in candidates {
            let outcome = match format {
                TokenFormat::Ltpa2 => self.try_key_sets::<Ltpa2>(token, options, stop_at_failure),
                TokenFormat::Ltpa1 => self.try_key_sets::<Ltpa1>(token, options, stop_at_failure),
                TokenFormat::Domino => match &self.domino_secret {
                    Some(secret) => {
                        domino::examine(secret, token, options, stop_at_failure).map_err(Some)
                    }
                    None => Err(None),
                },
            };
            match outcome {
                Ok(inspection) => return Ok(inspection),
                Err(Some(error)) => best = Some(more_telling(best, error)),
                Err(None) => {}
            }
        }
        Err(best.unwrap_or_else(|| {
            Invalid::WrongKey(format!(
                "no keys to verify {} tokens with",
                format.map_or("these", TokenFormat::as_str)
            ))
        }))
    }

    /// Tries each key set in turn; `Err(None)` when there are none.
    fn try_key_sets<F: Flavor>(
        &self,
        token: &str,
        options: &VerifyOptions,
        stop_at_failure: bool,
    ) -> Result<Inspection, Option<Invalid>> {
        let mut best = None;
        for keys in &self.key_sets {
            match websphere::examine::<F>(keys, token, options, stop_at_failure) {
                Ok(inspection) => return Ok(inspection),
                Err(error) => best = Some(more_telling(best, error)),
            }
        }
        Err(best)
    }
}

/// Of two opening failures, the one that says more: "does not decrypt
/// with these keys" beats "not this format's shape".
fn more_telling(previous: Option<Invalid>, next: Invalid) -> Invalid {
    match previous {
        Some(previous @ Invalid::WrongKey(_)) if !matches!(next, Invalid::WrongKey(_)) => previous,
        Some(previous)
            if matches!(next, Invalid::Malformed(_))
                && !matches!(previous, Invalid::Malformed(_)) =>
        {
            previous
        }
        _ => next,
    }
}
