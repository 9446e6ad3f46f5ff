//! The server-side services that answer from the community's records:
//! storage (spec §6.3), whose buddy list (key 0) *is* the user's contact
//! list, the same one the web client shows and edits, and resolve (§6.2),
//! which finds people by whatever name a user types.

use std::collections::BTreeMap;

use simul_core::UserId;
use simul_service::{ContactGroup, ContactList, Service};
use simul_vp::buddy_list::{Buddy, BuddyList, Group, GroupKind, UserKind};
use simul_vp::message::ChannelSend;
use simul_vp::services::resolve::{self, Match, QueryResult, Request, Response};
use simul_vp::services::storage::{self, ClientMessage, ServerMessage, StorageItem};
use simul_vp::{ErrorCode, Message};

/// People a resolve answers with for one name, at most.
const MAX_MATCHES: u32 = 10;

/// The answer to a storage request on `send.channel`.
pub(crate) async fn storage(
    service: &Service,
    user: &UserId,
    send: &ChannelSend,
) -> Option<Message> {
    let reply = match ClientMessage::decode(send.send_type, &send.data).ok()? {
        ClientMessage::Load { request_id, keys } => {
            if keys.first() != Some(&storage::key::BUDDY_LIST) {
                // Other keys (away messages, invitation texts) are not kept.
                ServerMessage::not_found(request_id)
            } else {
                load_buddy_list(service, user, request_id).await
            }
        }
        ClientMessage::Save { request_id, items } => {
            let saved = match items.first() {
                Some(item) if item.key == storage::key::BUDDY_LIST => {
                    save_buddy_list(service, user, item).await
                }
                _ => false,
            };
            let result = if saved { 0 } else { ErrorCode::Failure.code() };
            ServerMessage::Saved { request_id, result }
        }
    };
    reply_on(send.channel, reply.encode().ok()?)
}

/// The contact list as a buddy list. An empty list is "not found": a
/// Pidgin that synchronises would otherwise delete its local buddies
/// (spec §6.3).
async fn load_buddy_list(service: &Service, user: &UserId, request_id: u32) -> ServerMessage {
    let Ok(contacts) = service.contact_list(user.as_str()).await else {
        return ServerMessage::not_found(request_id);
    };
    if contacts.groups.iter().all(|group| group.contacts.is_empty()) {
        return ServerMessage::not_found(request_id);
    }
    let Ok(value) = buddy_list_of(&contacts).to_storage_value() else {
        return ServerMessage::not_found(request_id);
    };
    let item = StorageItem { key: storage::key::BUDDY_LIST, value };
    ServerMessage::Loaded { request_id, result: 0, items: vec![item] }
}

/// Makes the saved buddy list the contact list; whether it was kept.
async fn save_buddy_list(service: &Service, user: &UserId, item: &StorageItem) -> bool {
    // A line the web could not show is left out, the rest kept.
    let Ok(text) = item.as_text() else { return false };
    let (list, problems) = BuddyList::parse_lenient(&text);
    if !problems.is_empty() {
        tracing::debug!(problems = problems.len(), "VP: buddy list lines left out");
    }
    let Ok(before) = service.contact_list(user.as_str()).await else { return false };
    // A contact list the buddy list format cannot carry (over 64 KiB of
    // text: some 1,600 contacts) never reached the client: what it saves
    // would drop the rest, so it is refused and the list stays whole.
    if buddy_list_of(&before).to_storage_value().is_err() {
        tracing::info!(%user, "VP: buddy list not saved over a contact list too large for it");
        return false;
    }
    let contacts = contact_list_of(&list, &before);
    match service.set_contact_list(user.as_str(), contacts).await {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(%error, "VP: buddy list not kept");
            false
        }
    }
}

/// A buddy list of the contact list: one normal group per group, open,
/// each buddy with the alias the owner gave them. Names are written as
/// the format can carry them ([`writable`]).
fn buddy_list_of(contacts: &ContactList) -> BuddyList {
    let groups = contacts
        .groups
        .iter()
        .map(|group| Group {
            name: writable(&group.name, Field::GroupName),
            kind: GroupKind::Normal,
            alias: writable(&group.name, Field::GroupName),
            open: true,
            users: group
                .contacts
                .iter()
                .map(|id| Buddy {
                    id: id.clone(),
                    kind: UserKind::Normal,
                    name: String::new(),
                    alias: contacts
                        .aliases
                        .get(id)
                        .map(|alias| writable(alias, Field::Alias))
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    BuddyList { groups, ..BuddyList::default() }
}

/// The contact list of a buddy list: its normal groups and the users of
/// this community in them, with their aliases (server-side groups and
/// external users have no place in it yet). A group name or alias that
/// comes back as [`buddy_list_of`] wrote it keeps its spelling in
/// `before`, so a round trip through a Sametime client loses nothing.
fn contact_list_of(list: &BuddyList, before: &ContactList) -> ContactList {
    let groups: Vec<&Group> =
        list.groups.iter().filter(|group| group.kind != GroupKind::Dynamic).collect();
    let mut aliases = BTreeMap::new();
    for buddy in groups.iter().flat_map(|g| members(g)).filter(|buddy| !buddy.alias.is_empty()) {
        let original = before.aliases.get(&buddy.id);
        aliases
            .entry(buddy.id.clone())
            .or_insert_with(|| as_it_was(&buddy.alias, original, Field::Alias));
    }
    let groups = groups
        .iter()
        .map(|group| ContactGroup {
            name: as_it_was(&group.name, before.groups.iter().map(|g| &g.name), Field::GroupName),
            contacts: members(group).map(|buddy| buddy.id.clone()).collect(),
        })
        .collect();
    ContactList { groups, aliases }
}

/// The users of this community in `group`.
fn members(group: &Group) -> impl Iterator<Item = &Buddy> {
    group.users.iter().filter(|buddy| buddy.kind == UserKind::Normal)
}

/// The one of `originals` that [`writable`] turns into `written`, else
/// `written` itself.
fn as_it_was<'a>(
    written: &str,
    originals: impl IntoIterator<Item = &'a String>,
    field: Field,
) -> String {
    let mut originals = originals.into_iter();
    originals
        .find(|original| writable(original, field) == written)
        .map_or_else(|| written.to_owned(), Clone::clone)
}

/// A field of the buddy list text format that [`writable`] prepares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    GroupName,
    Alias,
}

/// `text` with a space for each character the buddy list format cannot
/// carry in `field`: ';' (it stands for a space), line breaks and other
/// white space (separators), and in a buddy's alias ',' (the alias is
/// what follows the line's last comma). "Smith, John" is shown to a
/// Sametime client as "Smith  John" rather than the whole list failing
/// to load, which a client that synchronises would take for an empty
/// list and overwrite.
fn writable(text: &str, field: Field) -> String {
    let dropped = |c: char| {
        c == ';'
            || c.is_control()
            || (c.is_whitespace() && c != ' ')
            || (field == Field::Alias && c == ',')
    };
    text.chars().map(|c| if dropped(c) { ' ' } else { c }).collect()
}

/// The answer to a resolve request on `send.channel`: each name as the
/// directory knows it (id, login name, mail), else the people whose
/// names contain it.
pub(crate) async fn resolve(service: &Service, send: &ChannelSend) -> Option<Message> {
    let request = Request::decode(send.send_type, &send.data).ok()?;
    let mut results = Vec::with_capacity(request.queries.len());
    for query in &request.queries {
        results.push(resolve_one(service, query).await);
    }
    let response = Response { search_id: request.search_id, code: resolve::code::SUCCESS, results };
    reply_on(send.channel, response.encode().ok()?)
}

async fn resolve_one(service: &Service, query: &str) -> QueryResult {
    let people = match service.person(query).await {
        Ok(Some(person)) if !person.disabled => vec![person],
        Ok(_) => service.search(query, MAX_MATCHES).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    if people.is_empty() {
        return QueryResult::miss(query);
    }
    let matches = people
        .into_iter()
        .map(|person| Match {
            name: if person.display_name.is_empty() {
                person.id.clone()
            } else {
                person.display_name
            },
            id: person.id,
            desc: String::new(),
            kind: resolve::match_type::USER,
        })
        .collect();
    QueryResult { code: 0, name: query.to_owned(), matches }
}

fn reply_on(channel: u32, (send_type, data): (u16, Vec<u8>)) -> Option<Message> {
    Some(Message::ChannelSend(ChannelSend { channel, encrypted: false, send_type, data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_lists_and_buddy_lists_carry_the_same_groups_people_and_aliases() {
        let contacts = ContactList {
            groups: vec![
                ContactGroup {
                    name: "Team A".into(),
                    contacts: vec!["bob".into(), "carol".into()],
                },
                ContactGroup { name: "Empty".into(), contacts: Vec::new() },
            ],
            aliases: [("bob".to_owned(), "Bobby B".to_owned())].into(),
        };
        let text = buddy_list_of(&contacts).to_text().unwrap();
        assert!(text.contains("U bob1:: ,Bobby;B\r\n"), "{text:?}");
        let back = BuddyList::parse(&text).unwrap();
        assert_eq!(contact_list_of(&back, &ContactList::default()), contacts);
    }

    #[test]
    fn names_the_format_cannot_carry_are_shown_with_spaces_and_come_back_as_they_were() {
        let contacts = ContactList {
            groups: vec![ContactGroup {
                name: "R;D\tTeam".into(),
                contacts: vec!["bob".into(), "carol".into()],
            }],
            aliases: [
                ("bob".to_owned(), "Smith, Bob".to_owned()),
                ("carol".to_owned(), "Carol;C".to_owned()),
            ]
            .into(),
        };
        let written = BuddyList::parse(&buddy_list_of(&contacts).to_text().unwrap()).unwrap();
        assert_eq!(written.groups[0].name, "R D Team");
        let shown: Vec<&str> = written.groups[0].users.iter().map(|u| u.alias.as_str()).collect();
        assert_eq!(shown, ["Smith  Bob", "Carol C"]);
        assert_eq!(contact_list_of(&written, &contacts), contacts);

        // Renamed in the client: the new names are kept.
        let mut renamed = written.clone();
        renamed.groups[0].name = "Lab".into();
        renamed.groups[0].users[0].alias = "Bob S".into();
        let kept = contact_list_of(&renamed, &contacts);
        assert_eq!(kept.groups[0].name, "Lab");
        assert_eq!(kept.aliases["bob"], "Bob S");
        assert_eq!(kept.aliases["carol"], "Carol;C");
    }

    #[test]
    fn server_groups_and_external_users_are_left_out() {
        let text = "Version=3.1.3\r\nG Team2 Team O\r\nU bob1:: Bob,\r\nU @E;ext2:: Ext,\r\n\
                    G Nab3 Nab O\r\nU carol1:: Carol,\r\n";
        let list = BuddyList::parse(text).unwrap();
        assert_eq!(list.groups[0].users[1].kind, UserKind::External, "{list:?}");
        let contacts = contact_list_of(&list, &ContactList::default());
        assert_eq!(contacts.groups.len(), 1);
        assert_eq!(contacts.groups[0].contacts, ["bob"]);
    }
}
