//! Property tests: every block and message reads back what was written,
//! and no reader panics on arbitrary bytes.

use bytes::BytesMut;
use proptest::prelude::*;
use simul_vp::buddy_list::{Buddy, BuddyList, Group, GroupKind, UserKind};
use simul_vp::message::{
    Announce, ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend, ChosenCipher, CipherOffer,
    EncryptAccept, EncryptOffer, Handshake, HandshakeAck, HandshakeExtra, Login, LoginAck,
    LoginRedirect,
};
use simul_vp::services::{awareness, conference, im, resolve, storage};
use simul_vp::{
    AwareIdBlock, AwareSnapshot, Block, EncryptItem, FrameCodec, IdBlock, LoginDetails, LoginInfo,
    Message, OnlineInfo, PrivacyInfo, UserItem, UserStatus,
};
use tokio_util::codec::{Decoder, Encoder};

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn login_info() -> impl Strategy<Value = LoginInfo> {
    let details = (text(), any::<u32>(), text())
        .prop_map(|(desc, ip_addr, server_id)| LoginDetails { desc, ip_addr, server_id });
    (text(), any::<u16>(), text(), text(), text(), proptest::option::of(details)).prop_map(
        |(login_id, login_type, user_id, user_name, community, details)| LoginInfo {
            login_id,
            login_type,
            user_id,
            user_name,
            community,
            details,
        },
    )
}

fn user_status() -> impl Strategy<Value = UserStatus> {
    (any::<u16>(), any::<u32>(), text()).prop_map(|(status, time, desc)| UserStatus {
        status,
        time,
        desc,
    })
}

fn privacy() -> impl Strategy<Value = PrivacyInfo> {
    let user = (text(), text(), proptest::option::of(text()))
        .prop_map(|(id, community, name)| UserItem { id, community, name });
    (any::<bool>(), proptest::collection::vec(user, 0..4))
        .prop_map(|(deny, users)| PrivacyInfo { deny, users })
}

fn id_block() -> impl Strategy<Value = IdBlock> {
    (text(), text()).prop_map(|(user, community)| IdBlock { user, community })
}

fn aware_id() -> impl Strategy<Value = AwareIdBlock> {
    (any::<u16>(), text(), text()).prop_map(|(kind, user, community)| AwareIdBlock {
        kind,
        user,
        community,
    })
}

fn snapshot() -> impl Strategy<Value = AwareSnapshot> {
    let online = (text(), user_status(), text()).prop_map(|(alt_id, status, name)| OnlineInfo {
        alt_id,
        status,
        name,
    });
    (aware_id(), text(), proptest::option::of(online))
        .prop_map(|(id, group, online)| AwareSnapshot { id, group, online })
}

fn encrypt_item() -> impl Strategy<Value = EncryptItem> {
    (any::<u16>(), bytes(70)).prop_map(|(cipher, info)| EncryptItem { cipher, info })
}

fn encrypt_offer() -> impl Strategy<Value = EncryptOffer> {
    let ciphers = (proptest::collection::vec(encrypt_item(), 0..3), any::<u16>(), any::<bool>())
        .prop_map(|(items, extra, flag)| CipherOffer { items, extra, flag });
    (any::<u16>(), proptest::option::of(ciphers))
        .prop_map(|(mode, ciphers)| EncryptOffer { mode, ciphers })
}

fn encrypt_accept() -> impl Strategy<Value = EncryptAccept> {
    let chosen = (encrypt_item(), any::<u16>(), any::<bool>())
        .prop_map(|(item, extra, flag)| ChosenCipher { item, extra, flag });
    (any::<u16>(), proptest::option::of(chosen))
        .prop_map(|(mode, chosen)| EncryptAccept { mode, chosen })
}

fn message() -> impl Strategy<Value = Message> {
    let handshake =
        (any::<[u16; 2]>(), any::<[u32; 3]>(), any::<u16>(), any::<u16>(), any::<u32>(), text())
            .prop_map(
                |(
                    [major, minor],
                    [channel, srvrcalc_addr, loclcalc_addr],
                    login_type,
                    a,
                    b,
                    host,
                )| {
                    // The extra fields are read only from version 0x1e.0x1d on.
                    let extra = (major >= 0x1e && minor >= 0x1d).then_some(HandshakeExtra {
                        unknown_a: a,
                        unknown_b: b,
                        local_host: host,
                    });
                    Message::Handshake(Handshake {
                        major,
                        minor,
                        channel,
                        srvrcalc_addr,
                        login_type,
                        loclcalc_addr,
                        extra,
                    })
                },
            );
    let ack = (any::<u32>(), any::<u32>(), any::<[u8; 64]>(), any::<bool>()).prop_map(
        |(addr, magic, key, with_key)| {
            Message::HandshakeAck(if with_key {
                HandshakeAck::with_key(addr, magic, key)
            } else {
                HandshakeAck::without_key(addr)
            })
        },
    );
    let login = (any::<u16>(), text(), bytes(100), any::<u16>()).prop_map(
        |(login_type, name, auth_data, auth_type)| {
            Message::Login(Login { login_type, name, auth_data: auth_data.into(), auth_type })
        },
    );
    let login_ack = (login_info(), any::<u16>(), privacy(), user_status()).prop_map(
        |(login, unknown, privacy, status)| {
            Message::LoginAck(LoginAck { login, unknown, privacy, status })
        },
    );
    let create = (
        any::<[u32; 5]>(),
        id_block(),
        bytes(40),
        proptest::option::of(login_info()),
        encrypt_offer(),
    )
        .prop_map(
            |(
                [channel, service, proto_type, proto_ver, options],
                target,
                addtl,
                creator,
                encrypt,
            )| {
                Message::ChannelCreate(ChannelCreate {
                    channel,
                    target,
                    service,
                    proto_type,
                    proto_ver,
                    options,
                    addtl,
                    creator,
                    encrypt,
                })
            },
        );
    let accept =
        (any::<[u32; 4]>(), bytes(40), proptest::option::of(login_info()), encrypt_accept())
            .prop_map(|([channel, service, proto_type, proto_ver], addtl, acceptor, encrypt)| {
                Message::ChannelAccept(ChannelAccept {
                    channel,
                    service,
                    proto_type,
                    proto_ver,
                    addtl,
                    acceptor,
                    encrypt,
                })
            });
    let send = (any::<u32>(), any::<bool>(), any::<u16>(), bytes(60)).prop_map(
        |(channel, encrypted, send_type, data)| {
            Message::ChannelSend(ChannelSend { channel, encrypted, send_type, data })
        },
    );
    let destroy = (any::<u32>(), any::<u32>(), bytes(20)).prop_map(|(channel, reason, data)| {
        Message::ChannelDestroy(ChannelDestroy { channel, reason, data })
    });
    let announce = (
        proptest::option::of(login_info()),
        any::<u16>(),
        any::<bool>(),
        text(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(sender, unknown, may_reply, text, recipients)| {
            Message::Announce(Announce { sender, unknown, may_reply, text, recipients })
        });
    prop_oneof![
        handshake,
        ack,
        login,
        login_ack,
        (text(), text()).prop_map(|(host, server_id)| Message::LoginRedirect(LoginRedirect {
            host,
            server_id
        })),
        Just(Message::LoginContinue),
        create,
        accept,
        send,
        destroy,
        user_status().prop_map(Message::SetUserStatus),
        privacy().prop_map(Message::SetPrivacyList),
        any::<u32>().prop_map(|service| Message::SenseService { service }),
        text().prop_map(|text| Message::Admin { text }),
        announce,
    ]
}

fn round_trip<T: Block + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = value.to_bytes().unwrap();
    assert_eq!(&T::from_bytes(&bytes).unwrap(), value);
}

/// Buddy-list fields: no `;`, no control characters, spaces allowed inside.
fn list_text(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9éü@=/.,:'-][a-zA-Z0-9éü@=/.,:' -]{{{},10}}",
        min.saturating_sub(1)
    ))
    .unwrap()
    .prop_map(|s| s.trim_end().to_owned())
}

fn buddy_list() -> impl Strategy<Value = BuddyList> {
    let user = (
        list_text(1),
        prop_oneof![Just(UserKind::Normal), Just(UserKind::External)],
        list_text(0),
        "[a-zA-Z0-9 ]{0,8}",
    )
        .prop_filter("ids without ::", |(id, ..)| !id.contains("::") && !id.ends_with(':'))
        .prop_map(|(id, kind, name, alias)| Buddy {
            id,
            kind,
            name,
            alias: alias.trim_end().to_owned(),
        });
    let group = (
        list_text(1),
        prop_oneof![Just(GroupKind::Normal), Just(GroupKind::Dynamic)],
        list_text(1),
        any::<bool>(),
        proptest::collection::vec(user, 0..4),
    )
        .prop_filter("names without trailing space", |(name, _, alias, ..)| {
            !name.is_empty() && !alias.is_empty()
        })
        .prop_map(|(name, kind, alias, open, users)| Group { name, kind, alias, open, users });
    (any::<[u16; 3]>(), proptest::collection::vec(group, 0..4))
        .prop_map(|(v, groups)| BuddyList { version: v.map(u32::from), groups })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn blocks_round_trip(
        info in login_info(),
        status in user_status(),
        privacy in privacy(),
        id in id_block(),
        aware in aware_id(),
        snapshot in snapshot(),
        item in encrypt_item(),
        offer in encrypt_offer(),
        accept in encrypt_accept(),
    ) {
        round_trip(&info);
        round_trip(&status);
        round_trip(&privacy);
        round_trip(&id);
        round_trip(&aware);
        round_trip(&snapshot);
        round_trip(&item);
        round_trip(&offer);
        round_trip(&accept);
    }

    #[test]
    fn messages_round_trip_through_the_codec(messages in proptest::collection::vec(message(), 1..4), split in any::<prop::sample::Index>()) {
        let mut codec = FrameCodec::new();
        let mut stream = BytesMut::new();
        for m in &messages {
            codec.encode(m, &mut stream).unwrap();
            codec.encode(simul_vp::Keepalive, &mut stream).unwrap();
        }
        let at = split.index(stream.len());
        let mut buf = BytesMut::from(&stream[..at]);
        let mut decoded = Vec::new();
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            decoded.push(Message::decode(&frame).unwrap());
        }
        buf.extend_from_slice(&stream[at..]);
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            decoded.push(Message::decode(&frame).unwrap());
        }
        prop_assert_eq!(decoded, messages);
    }

    #[test]
    fn service_payloads_round_trip(
        ids in proptest::collection::vec(aware_id(), 0..4),
        snapshots in proptest::collection::vec(snapshot(), 0..4),
        key in any::<u32>(),
        value in bytes(20),
        keys in proptest::collection::vec(any::<u32>(), 0..4),
        words in proptest::collection::vec(text(), 0..3),
        n in any::<[u32; 3]>(),
        member in any::<u16>(),
        info in login_info(),
        say in text(),
    ) {
        let check = |(t, d): (u16, Vec<u8>)| (t, d);
        for m in [
            awareness::ClientMessage::Add(ids.clone()),
            awareness::ClientMessage::Remove(ids.clone()),
            awareness::ClientMessage::SetAttribute { key, value: value.clone() },
            awareness::ClientMessage::UnsetAttribute { key },
            awareness::ClientMessage::Watch { keys: keys.clone() },
        ] {
            let (t, d) = check(m.encode().unwrap());
            prop_assert_eq!(awareness::ClientMessage::decode(t, &d).unwrap(), m);
        }
        let id = ids.first().cloned().unwrap_or_default();
        for m in [
            awareness::ServerMessage::Snapshot(snapshots.clone()),
            awareness::ServerMessage::Group(id.clone()),
            awareness::ServerMessage::AttributeSet { id: id.clone(), key, value: value.clone() },
            awareness::ServerMessage::AttributeUnset { id, key },
        ] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(awareness::ServerMessage::decode(t, &d).unwrap(), m);
        }
        if let Some(entry) = snapshots.first() {
            let m = awareness::ServerMessage::Update(entry.clone());
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(awareness::ServerMessage::decode(t, &d).unwrap(), m);
        }

        let request = resolve::Request { search_id: n[0], queries: words.clone(), flags: n[1] };
        let (t, d) = request.encode().unwrap();
        prop_assert_eq!(resolve::Request::decode(t, &d).unwrap(), request);
        let response = resolve::Response {
            search_id: n[0],
            code: n[1],
            results: words.iter().map(|w| resolve::QueryResult {
                code: n[2],
                name: w.clone(),
                matches: vec![resolve::Match { id: w.clone(), name: say.clone(), desc: w.clone(), kind: n[2] }],
            }).collect(),
        };
        let (t, d) = response.encode().unwrap();
        prop_assert_eq!(resolve::Response::decode(t, &d).unwrap(), response);

        let items: Vec<_> = keys.iter().map(|&key| storage::StorageItem { key, value: value.clone() }).collect();
        for m in [
            storage::ClientMessage::Load { request_id: n[0], keys: keys.clone() },
            storage::ClientMessage::Save { request_id: n[0], items: items.clone() },
        ] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(storage::ClientMessage::decode(t, &d).unwrap(), m);
        }
        for m in [
            storage::ServerMessage::Loaded { request_id: n[0], result: n[1], items },
            storage::ServerMessage::Saved { request_id: n[0], result: n[1] },
        ] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(storage::ServerMessage::decode(t, &d).unwrap(), m);
        }

        for m in [im::ImMessage::Text(say.clone()), im::ImMessage::Data { data_type: n[0], subtype: n[1], data: value.clone() }] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(im::ImMessage::decode(t, &d).unwrap(), m);
        }
        round_trip(&im::CreateInfo { marker: n[0], client_type: n[1] });
        round_trip(&im::AcceptInfo { client_type: n[1], status: UserStatus { status: 0x20, time: n[2], desc: say.clone() } });

        let payloads = [conference::ChatPayload::Text(say.clone()), conference::ChatPayload::Typing(n[0] % 2 == 0)];
        for payload in payloads.clone() {
            let m = conference::ClientMessage::Message(payload.clone());
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(conference::ClientMessage::decode(t, &d).unwrap(), m);
            let m = conference::ServerMessage::Message { member_id: member, payload };
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(conference::ServerMessage::decode(t, &d).unwrap(), m);
        }
        let members = vec![conference::Member { id: member, login: info.clone() }];
        for m in [
            conference::ServerMessage::Welcome { name: say.clone(), title: say.clone(), members: members.clone() },
            conference::ServerMessage::Joined(members[0].clone()),
            conference::ServerMessage::Part { member_id: member },
        ] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(conference::ServerMessage::decode(t, &d).unwrap(), m);
        }
        for m in [conference::ClientMessage::Invite { who: IdBlock::user(say.clone()), text: say.clone() }, conference::ClientMessage::Join] {
            let (t, d) = m.encode().unwrap();
            prop_assert_eq!(conference::ClientMessage::decode(t, &d).unwrap(), m);
        }
        round_trip(&conference::CreateInfo { name: say.clone(), title: say.clone() });
        round_trip(&conference::Invitation { name: say.clone(), title: say.clone(), inviter: info, text: say });
    }

    #[test]
    fn buddy_lists_round_trip(list in buddy_list()) {
        let text = list.to_text().unwrap();
        prop_assert_eq!(BuddyList::parse(&text).unwrap(), list.clone());
        prop_assert_eq!(BuddyList::from_storage_value(&list.to_storage_value().unwrap()).unwrap(), list);
    }

    /// Whatever list text parses and can be written reads back the same
    /// (the property the fuzz target checks on arbitrary text).
    #[test]
    fn parsed_lists_rewrite_to_themselves(lines in proptest::collection::vec(
        "(Version=[0-9.+]{0,7}|G [a-c;:,é]{0,5}[0-9:;] [a-c;]{0,3} [OCX ]|U [a-c;:,é 1]{0,14}|  ?[GUVx]?)",
        0..8,
    ), ends in "(\r\n|\n|\r)") {
        let text = lines.join(&ends);
        let (_, errors) = BuddyList::parse_lenient(&text);
        if let Ok(list) = BuddyList::parse(&text) {
            prop_assert!(errors.is_empty());
            if let Ok(written) = list.to_text() {
                prop_assert_eq!(BuddyList::parse(&written).unwrap(), list);
            }
        }
    }

    /// Arbitrary bytes never panic any reader.
    #[test]
    fn readers_never_panic(data in bytes(300), send_type in any::<u16>()) {
        let _ = Message::decode(&data);
        let mut buf = BytesMut::from(&data[..]);
        let mut codec = FrameCodec::with_max_frame(256);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            let _ = Message::decode(&frame);
        }
        let _ = codec.decode_eof(&mut buf);
        let _ = LoginInfo::from_bytes(&data);
        let _ = PrivacyInfo::from_bytes(&data);
        let _ = AwareSnapshot::from_bytes(&data);
        let _ = EncryptOffer::from_bytes(&data);
        let _ = EncryptAccept::from_bytes(&data);
        let _ = awareness::ClientMessage::decode(send_type % 0x300, &data);
        let _ = awareness::ServerMessage::decode(send_type % 0x300, &data);
        let _ = resolve::Request::decode(2, &data);
        let _ = resolve::Response::decode(2, &data);
        let _ = storage::ClientMessage::decode(send_type % 8, &data);
        let _ = storage::ServerMessage::decode(send_type % 8, &data);
        let _ = im::ImMessage::decode(im::SEND_TYPE, &data);
        let _ = conference::ClientMessage::decode(send_type % 5, &data);
        let _ = conference::ServerMessage::decode(send_type % 5, &data);
        let _ = conference::Invitation::from_bytes(&data);
        let _ = BuddyList::parse_lenient(&String::from_utf8_lossy(&data));
        let _ = BuddyList::from_storage_value(&data);
    }

    /// Login decryption never panics and never accepts random auth data
    /// for RC2/128 (the magic must match).
    #[test]
    fn login_decryption_never_panics(data in bytes(200), auth_type in 0u16..6) {
        let keys = simul_vp::LoginKeys::from_parts(simul_vp::crypto::DhKeyPair::from_private(&[7; 32]), 0x1234_5678);
        let login = Login { login_type: 0x1700, name: "x".into(), auth_data: data.into(), auth_type };
        let result = simul_vp::decrypt_login(&login, Some(&keys), simul_vp::LoginOptions { allow_plain: true });
        if auth_type == 4 {
            prop_assert!(result.is_err());
        }
    }
}
