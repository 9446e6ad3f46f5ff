//! Framing of the byte stream (spec §1.2–§1.4): `u32 N` then N bytes of
//! message; a length of 0 is an empty frame; at a frame boundary every
//! byte with the high bit set is a keepalive and is skipped.
//!
//! [`FrameCodec`] is a `tokio_util::codec` decoder and encoder over
//! `BytesMut`. It accepts any split of the stream (several frames and
//! keepalives in one read, a frame across many reads) and refuses a
//! frame longer than its limit as soon as the length arrives, before
//! buffering it. The spec's answer to such a frame is
//! `CHANNEL_DESTROY(0, FAT_MESSAGE)` and closing (§1.4,
//! [`FrameError::reason`]).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;
use tokio_util::codec::{Decoder, Encoder};

use crate::encoding::EncodeError;
use crate::message::Message;
use crate::reason::ErrorCode;

/// The keepalive byte clients send between frames (§1.3).
pub const KEEPALIVE: u8 = 0x80;

/// Default largest frame accepted or written: 1 MiB. No source defines a
/// limit; the clients' largest messages are file-transfer chunks of 8 KiB
/// and buddy lists of tens of KiB (§1.4).
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Length of the frame's length prefix.
const PREFIX: usize = 4;

/// Why the stream cannot go on.
#[derive(Debug, Error)]
pub enum FrameError {
    /// A frame announces more bytes than the limit allows.
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// The announced (or attempted) length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A message to send could not be encoded.
    #[error("message cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// The transport failed.
    #[error("transport error: {0}")]
    Io(#[from] std::io::Error),
}

impl FrameError {
    /// The reason to send in the channel-0 `CHANNEL_DESTROY` before
    /// closing, where the peer deserves one.
    pub fn reason(&self) -> Option<ErrorCode> {
        match self {
            Self::TooLarge { .. } => Some(ErrorCode::FatMessage),
            Self::Encode(_) | Self::Io(_) => None,
        }
    }
}

/// Sends one keepalive byte (the server SHOULD send them now and then, §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive;

/// The frame codec. Decoded items are message bytes (header and body,
/// without the length), to be read with [`Message::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCodec {
    max_frame: usize,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameCodec {
    /// A codec with [`DEFAULT_MAX_FRAME`].
    pub fn new() -> Self {
        Self { max_frame: DEFAULT_MAX_FRAME }
    }

    /// A codec with another frame limit (bytes of message, without the
    /// length prefix).
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self { max_frame }
    }

    /// The frame limit.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    fn check(&self, len: usize) -> Result<(), FrameError> {
        if len > self.max_frame {
            return Err(FrameError::TooLarge { len: len as u64, max: self.max_frame });
        }
        Ok(())
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        loop {
            // Keepalives: real lengths are far below 2^31, so a length's
            // first byte never has the high bit set (§1.2).
            let keepalives = src.iter().take_while(|&&b| b & 0x80 != 0).count();
            src.advance(keepalives);
            if src.len() < PREFIX {
                return Ok(None);
            }
            let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]);
            let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
            if len_usize > self.max_frame {
                return Err(FrameError::TooLarge { len: u64::from(len), max: self.max_frame });
            }
            if len == 0 {
                // An empty frame: skip it and look for the next one.
                src.advance(PREFIX);
                continue;
            }
            if src.len() < PREFIX + len_usize {
                src.reserve(PREFIX + len_usize - src.len());
                return Ok(None);
            }
            src.advance(PREFIX);
            return Ok(Some(src.split_to(len_usize).freeze()));
        }
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, body: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        self.encode(&body[..], dst)
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, body: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        self.check(body.len())?;
        let len = u32::try_from(body.len())
            .map_err(|_| FrameError::TooLarge { len: body.len() as u64, max: self.max_frame })?;
        dst.reserve(PREFIX + body.len());
        dst.put_u32(len);
        dst.put_slice(body);
        Ok(())
    }
}

impl Encoder<&Message> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, message: &Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        let body = message.encode()?;
        self.encode(&body[..], dst)
    }
}

impl Encoder<Keepalive> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, _: Keepalive, dst: &mut BytesMut) -> Result<(), FrameError> {
        dst.put_u8(KEEPALIVE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut FrameCodec, buf: &mut BytesMut) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Some(frame) = codec.decode(buf).unwrap() {
            out.push(frame);
        }
        out
    }

    #[test]
    fn skips_keepalives_and_empty_frames() {
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::from(
            &[0x80, 0x80, 0, 0, 0, 2, 0xab, 0xcd, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0, 1, 0x07][..],
        );
        let frames = decode_all(&mut codec, &mut buf);
        assert_eq!(frames, [Bytes::from_static(&[0xab, 0xcd]), Bytes::from_static(&[7])]);
        assert!(buf.is_empty());
    }

    #[test]
    fn frames_split_at_every_byte() {
        let stream = [0x80, 0, 0, 0, 3, 1, 2, 3, 0x80, 0, 0, 0, 1, 9];
        for split in 0..stream.len() {
            let mut codec = FrameCodec::new();
            let mut buf = BytesMut::from(&stream[..split]);
            let mut frames = decode_all(&mut codec, &mut buf);
            buf.extend_from_slice(&stream[split..]);
            frames.extend(decode_all(&mut codec, &mut buf));
            assert_eq!(frames, [Bytes::from_static(&[1, 2, 3]), Bytes::from_static(&[9])]);
        }
    }

    #[test]
    fn refuses_oversized_frame_before_its_body() {
        let mut codec = FrameCodec::with_max_frame(16);
        let mut buf = BytesMut::from(&[0, 0, 0, 17][..]);
        let error = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(error, FrameError::TooLarge { len: 17, max: 16 }), "{error}");
        assert_eq!(error.reason(), Some(ErrorCode::FatMessage));
        let mut buf = BytesMut::from(&[0, 0, 0, 16][..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None, "exactly the limit waits for more");
    }

    #[test]
    fn encodes_length_prefix_and_keepalive() {
        let mut codec = FrameCodec::new();
        let mut out = BytesMut::new();
        codec.encode(&[1u8, 2][..], &mut out).unwrap();
        codec.encode(Keepalive, &mut out).unwrap();
        assert_eq!(&out[..], [0, 0, 0, 2, 1, 2, 0x80]);
        let mut small = FrameCodec::with_max_frame(1);
        assert!(matches!(
            small.encode(&[1u8, 2][..], &mut out),
            Err(FrameError::TooLarge { len: 2, max: 1 })
        ));
    }

    #[test]
    fn partial_frame_at_end_of_stream_is_an_error() {
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::from(&[0, 0, 0, 5, 1][..]);
        assert!(matches!(codec.decode_eof(&mut buf), Err(FrameError::Io(_))));
        let mut buf = BytesMut::from(&[0x80, 0x80][..]);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None, "trailing keepalives are fine");
    }
}
