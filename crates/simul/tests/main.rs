//! The tests of the `simul` binary, as a user runs it: one test binary for
//! all of them, so the workspace links it once instead of once a file (each
//! link of a debug binary with its dependencies is hundreds of megabytes:
//! forty of them filled a CI machine's disk). Each file below is one module;
//! run one of them with `cargo nextest run -p simul MODULE::`.

mod support;

mod announcements;
mod api;
mod backup;
mod certificates;
mod connections;
mod console;
mod console_audit;
mod console_logs;
mod console_overview;
mod console_sso;
mod deployment_cli;
mod files;
mod floods;
mod integrate;
mod key_rotation;
mod ldap;
mod lifecycle;
mod logs;
mod ltpa_cli;
mod message_changes;
mod proxy;
mod readme;
mod scale;
mod search;
mod security;
mod serve;
mod service;
mod sso_doctor;
mod stwebapi;
mod tls_resumption;
mod vp;
mod vp_files;
mod vp_pidgin;
mod xmpp;
mod xmpp_abuse;
mod xmpp_burst;
mod xmpp_changes;
mod xmpp_cleartext;
mod xmpp_files;
mod xmpp_js;
mod xmpp_resume;
mod xmpp_room_changes;
mod xmpp_sign_in_reads;
mod xmpp_vs_prosody;
