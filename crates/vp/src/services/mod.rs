//! The services that run over channels (spec §6): their ids and the
//! payloads of their CHANNEL_SEND messages and CREATE/ACCEPT `addtl`.
