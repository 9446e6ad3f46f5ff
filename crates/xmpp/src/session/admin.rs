//! Service administration (XEP-0133) as ad-hoc commands (XEP-0050), for
//! the users `[xmpp] admins` names: how many are online and who, an
//! announcement to everyone online (the console's, shown on every door),
//! disabling and enabling accounts,
//! ending someone's sessions. Others see no commands and get
//! `forbidden`. A command that needs input answers with its form first
//! (`executing`); the submitted form carries it out (`completed`). No
//! state is kept between the two: the form says everything.

use rand_core::{OsRng, RngCore as _};
use simul_core::UserId;
use simul_service::{Audience, ServiceError};
use tokio_xmpp::jid::Jid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::minidom::rxml::NcName;
use tokio_xmpp::parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use tokio_xmpp::parsers::disco::{DiscoItemsResult, Item as DiscoItem};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType};

use super::{Session, stanza_error};
use crate::jid::user_of;

/// XEP-0050's namespace, also the disco node that lists the commands.
pub(crate) const NS: &str = "http://jabber.org/protocol/commands";
/// XEP-0133's namespace: the commands' nodes and their forms' type.
const ADMIN: &str = "http://jabber.org/protocol/admin";

/// The commands this server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    OnlineUsersNum,
    OnlineUsersList,
    Announce,
    DisableUser,
    ReenableUser,
    EndUserSession,
}

impl Command {
    const ALL: [Self; 6] = [
        Self::OnlineUsersNum,
        Self::OnlineUsersList,
        Self::Announce,
        Self::DisableUser,
        Self::ReenableUser,
        Self::EndUserSession,
    ];

    /// Its name after `ADMIN#` (XEP-0133 §4), and what clients show.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::OnlineUsersNum => ("get-online-users-num", "Get Number of Online Users"),
            Self::OnlineUsersList => ("get-online-users-list", "Get List of Online Users"),
            Self::Announce => ("announce", "Send Announcement to Online Users"),
            Self::DisableUser => ("disable-user", "Disable a User"),
            Self::ReenableUser => ("reenable-user", "Re-Enable a User"),
            Self::EndUserSession => ("end-user-session", "End User Session"),
        }
    }

    fn node(self) -> String {
        format!("{ADMIN}#{}", self.names().0)
    }

    fn of(node: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|command| command.node() == node)
    }

    /// The field the command needs filled, if it needs input.
    fn input(self) -> Option<(&'static str, FieldType)> {
        match self {
            Self::OnlineUsersNum | Self::OnlineUsersList => None,
            Self::Announce => Some(("announcement", FieldType::TextMulti)),
            Self::DisableUser | Self::ReenableUser | Self::EndUserSession => {
                Some(("accountjids", FieldType::JidMulti))
            }
        }
    }
}

/// The form that asks for field `var`.
fn form_of(var: &str, type_: FieldType) -> DataForm {
    let field = Field { required: true, ..Field::new(var, type_) };
    DataForm::new(DataFormType::Form, ADMIN, vec![field])
}

/// An XML name this door spells as a constant.
pub(super) fn name(text: &'static str) -> NcName {
    NcName::try_from(text).expect("an XML name")
}

/// A `<command/>` answer: its node, session, status and form.
fn answer(node: &str, session: &str, status: &'static str, form: Option<DataForm>) -> Element {
    let mut command = Element::builder("command", NS)
        .attr(name("node"), node)
        .attr(name("sessionid"), session)
        .attr(name("status"), status);
    if status == "executing" {
        let complete = Element::builder("complete", NS).build();
        let actions =
            Element::builder("actions", NS).attr(name("execute"), "complete").append(complete);
        command = command.append(actions.build());
    }
    if let Some(form) = form {
        command = command.append(Element::from(form));
    }
    command.build()
}

/// The values of field `var` of a submitted form, if one is in `command`.
fn submitted(command: &Element, var: &str) -> Option<Vec<String>> {
    let form = command.children().find_map(|child| DataForm::try_from(child.clone()).ok())?;
    if form.type_ != DataFormType::Submit {
        return None;
    }
    let field = form.fields.into_iter().find(|field| field.var.as_deref() == Some(var))?;
    Some(field.values)
}

impl Session<'_> {
    /// Whether the user may run the commands: named in `[xmpp] admins`, or
    /// an administrator (the console's role, asked afresh each time).
    async fn is_admin(&self) -> bool {
        self.door.admins.iter().any(|admin| admin.eq_ignore_ascii_case(self.user.as_str()))
            || self.service.is_admin(self.user.as_str()).await.unwrap_or(false)
    }

    /// The commands the user may run (disco#items of the commands node):
    /// none for who is no administrator.
    pub(super) async fn command_list(&self) -> DiscoItemsResult {
        let server = Jid::new(&self.door.domain).ok();
        let admin = self.is_admin().await;
        let items = match server.filter(|_| admin) {
            Some(server) => Command::ALL
                .into_iter()
                .map(|command| DiscoItem {
                    jid: server.clone(),
                    node: Some(command.node()),
                    name: Some(command.names().1.to_owned()),
                })
                .collect(),
            None => Vec::new(),
        };
        DiscoItemsResult { node: Some(NS.to_owned()), items, rsm: None }
    }

    /// Runs the command in `payload` (a `<command/>` set).
    pub(super) async fn command(&mut self, id: &str, payload: &Element) -> Iq {
        let refuse =
            |condition, text| Iq::from_error(id, stanza_error(ErrorType::Cancel, condition, text));
        let Some(command) = payload.attr("node").and_then(Command::of) else {
            return refuse(DefinedCondition::ItemNotFound, "no such command");
        };
        if !self.is_admin().await {
            return refuse(DefinedCondition::Forbidden, "for administrators only");
        }
        if payload.attr("action") == Some("cancel") {
            let session = payload.attr("sessionid").unwrap_or_default();
            return completed_iq(id, answer(&command.node(), session, "canceled", None));
        }
        let session = match payload.attr("sessionid") {
            Some(session) => session.to_owned(),
            None => format!("{:016x}", OsRng.next_u64()),
        };
        let result = match (command, command.input()) {
            (Command::OnlineUsersNum, _) => {
                let count = self.service.online_users().len().to_string();
                Ok(result_form(vec![Field::text_single("onlineusersnum", &count)]))
            }
            (Command::OnlineUsersList, _) => {
                let online = self.service.online_users();
                let jids = online.iter().filter_map(|user| self.door.jid(user));
                let field = Field {
                    values: jids.map(|jid| jid.to_string()).collect(),
                    ..Field::new("onlineuserjids", FieldType::JidMulti)
                };
                Ok(result_form(vec![field]))
            }
            (_, Some((var, type_))) => {
                let Some(values) = submitted(payload, var) else {
                    let asked =
                        answer(&command.node(), &session, "executing", Some(form_of(var, type_)));
                    return completed_iq(id, asked);
                };
                self.carry_out(command, &values).await
            }
            // (Every command without input is answered above.)
            (_, None) => Err("nothing to do"),
        };
        match result {
            Ok(form) => completed_iq(id, answer(&command.node(), &session, "completed", form)),
            Err(text) => Iq::from_error(
                id,
                stanza_error(ErrorType::Modify, DefinedCondition::BadRequest, text),
            ),
        }
    }

    /// A command with its submitted values.
    async fn carry_out(
        &self,
        command: Command,
        values: &[String],
    ) -> Result<Option<DataForm>, &'static str> {
        let actor = simul_service::Actor { who: self.user.to_string(), origin: "xmpp".into() };
        if command == Command::Announce {
            let text = values.join("\n");
            let sent = self.service.announce(&actor, Audience::Everyone, &text).await;
            return match sent {
                Ok(()) => Ok(None),
                Err(ServiceError::Invalid(_)) => Err("the announcement is empty"),
                Err(ServiceError::TooLarge(_)) => Err("the announcement is too long"),
                Err(error) => {
                    tracing::warn!(%error, "XMPP: announcement not sent");
                    Err("the announcement could not be sent")
                }
            };
        }
        let domain = &self.door.domain;
        let users: Option<Vec<String>> = values
            .iter()
            .map(|jid| Jid::new(jid).ok().and_then(|jid| user_of(&jid, domain)))
            .collect();
        let Some(users) = users.filter(|users| !users.is_empty()) else {
            return Err("name users of this server");
        };
        for user in users {
            let done = match command {
                Command::DisableUser => self.service.set_disabled(&actor, &user, true).await,
                Command::ReenableUser => self.service.set_disabled(&actor, &user, false).await,
                _ => {
                    let user = self.service.recipient(&user).await.unwrap_or(UserId::new(&user));
                    self.service.end_sessions(&user);
                    Ok(())
                }
            };
            if let Err(error) = done {
                tracing::info!(admin = %self.user, %user, %error, "XMPP: command refused");
                return Err("no such user here, or the directory refuses the change");
            }
        }
        Ok(None)
    }
}

/// A completed command's result form.
fn result_form(fields: Vec<Field>) -> Option<DataForm> {
    Some(DataForm::new(DataFormType::Result_, ADMIN, fields))
}

/// The answer to a `<command/>` request.
fn completed_iq(id: &str, command: Element) -> Iq {
    Iq::Result { from: None, to: None, id: id.to_owned(), payload: Some(command) }
}
