//! Files in XMPP's terms: HTTP upload (XEP-0363) to send one, and a link
//! with out-of-band data (XEP-0066 `jabber:x:oob`) to receive one, which
//! clients show as the file itself (an image inline).
//!
//! The upload service is `upload.DOMAIN`. A slot reserves a file in the
//! community (see `simul_service`'s reserved files) and hands the client
//! the web door's PUT URL and the uploader's own link. When the client
//! sends that link, alone, as a message, the file goes into that
//! conversation; each reader then gets a link of their own (a
//! capability of theirs, which the web door checks against the
//! conversation's members when it is fetched), never the uploader's.

use std::collections::HashMap;
use std::sync::Arc;

use simul_core::Attachment;
use simul_service::{FileTarget, SentFile, ServiceError};
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::data_forms::{DataForm, DataFormType, Field};
use tokio_xmpp::parsers::disco::{DiscoInfoResult, Identity};
use tokio_xmpp::parsers::http_upload::{Get, Put, SlotRequest, SlotResult};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::oob::Oob;
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType};

use super::{Session, condition_of, stanza_error};

/// XEP-0363's namespace.
const UPLOAD: &str = "urn:xmpp:http:upload:0";

/// The JID of the upload service of `domain`.
pub(crate) fn upload_service(domain: &str) -> String {
    format!("upload.{domain}")
}

/// Whether `to` is the upload service of `domain`.
pub(crate) fn is_upload_service(to: &Jid, domain: &str) -> bool {
    to.node().is_none() && to.domain().as_str() == upload_service(domain)
}

impl Session<'_> {
    /// Whether this door takes uploads (it knows where the web door is).
    pub(super) fn uploads_offered(&self) -> bool {
        self.door.file_urls.is_some()
    }

    /// What the upload service is (XEP-0363 §2), with the largest file.
    pub(super) fn upload_info(&self) -> DiscoInfoResult {
        let limit = self.service.max_file_bytes().to_string();
        DiscoInfoResult {
            node: None,
            identities: vec![Identity::new("store", "file", "en", "File uploads")],
            features: [UPLOAD.to_owned()].into(),
            extensions: vec![DataForm::new(
                DataFormType::Result_,
                UPLOAD,
                vec![Field::text_single("max-file-size", &limit)],
            )],
        }
    }

    /// The answer to a slot request `id` (XEP-0363 §4): a file reserved
    /// for the user, where to PUT it and where it will be read; or why not.
    pub(super) async fn slot(&self, id: &str, request: &SlotRequest) -> Iq {
        let Some(urls) = &self.door.file_urls else {
            let error = stanza_error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable, "");
            return Iq::from_error(id, error);
        };
        let content_type = request.content_type.as_deref().unwrap_or_default();
        let reserved = self
            .service
            .reserve_file(&self.user, &request.filename, request.size, content_type)
            .await;
        match reserved {
            Ok(reservation) => {
                let file = &reservation.file;
                let capability = self.service.file_capability(file, &self.user);
                let slot = SlotResult {
                    put: Put {
                        url: urls.upload(file, &reservation.secret, &reservation.name),
                        headers: Vec::new(),
                    },
                    get: Get { url: urls.with_capability(file, &capability, &reservation.name) },
                };
                Iq::from_result(id, Some(slot))
            }
            Err(error @ ServiceError::TooLarge(_)) => {
                // §5: not-acceptable, with the limit for the client to show.
                let mut stanza_error = stanza_error(
                    ErrorType::Modify,
                    DefinedCondition::NotAcceptable,
                    &error.to_string(),
                );
                let limit = self.service.max_file_bytes().to_string();
                stanza_error.other = Some(
                    tokio_xmpp::minidom::Element::builder("file-too-large", UPLOAD)
                        .append(
                            tokio_xmpp::minidom::Element::builder("max-file-size", UPLOAD)
                                .append(limit),
                        )
                        .build(),
                );
                Iq::from_error(id, stanza_error)
            }
            Err(error) => {
                let (type_, condition) = condition_of(&error);
                Iq::from_error(id, stanza_error(type_, condition, &error.to_string()))
            }
        }
    }

    /// Sends the file a message's `body` is the link of, if it is a file
    /// the user reserved and uploaded: `None` for any other text.
    pub(super) async fn send_uploaded(
        &mut self,
        body: &str,
        to: FileTarget,
    ) -> Option<Result<SentFile, ServiceError>> {
        let urls = self.door.file_urls.as_ref()?;
        let file = urls.file_of(body)?;
        let members = urls.members();
        let sent = self.service.send_reserved(&self.user, Some(self.session), to, file, &members);
        sent.await.transpose()
    }

    /// The files of a page of history, by message id (none if they
    /// cannot be read now: the messages still show their text).
    pub(super) async fn files_of(&self, messages: &[u64]) -> HashMap<u64, Arc<Attachment>> {
        if self.door.file_urls.is_none() {
            return HashMap::new();
        }
        self.service.attachments(messages).await.unwrap_or_default()
    }

    /// `message` as this user receives it if it carries `file`: its body
    /// is the user's own link to the file, repeated as out-of-band data
    /// (clients show such a message as the file, an image inline).
    pub(super) fn with_file(&self, mut message: Message, file: Option<&Attachment>) -> Message {
        let (Some(file), Some(urls)) = (file, &self.door.file_urls) else { return message };
        let capability = self.service.file_capability(&file.id, &self.user);
        let url = urls.with_capability(&file.id, &capability, &file.name);
        message.bodies.clear();
        message.bodies.insert(Default::default(), url.clone());
        message.payloads.push(Oob { url, desc: None }.into());
        message
    }
}
