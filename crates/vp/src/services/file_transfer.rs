//! File transfer, service 0x38 (spec §6.6): the sender's CREATE names the
//! file and its size, the sender then sends TRANSFER chunks and the
//! receiver acknowledges each with RECEIVED; the sender closes the
//! channel once the last chunk is acknowledged.

use crate::encoding::{Block, DecodeError, Reader, Writer};

use super::unknown_send_type;

/// Send types (`srvc_ft.c`).
pub mod send_type {
    /// Sender → receiver: a chunk of the file.
    pub const TRANSFER: u16 = 0x0001;
    /// Receiver → sender: a chunk arrived (empty data).
    pub const RECEIVED: u16 = 0x0002;
}

/// The chunk size Pidgin sends (`MW_FT_LEN`): the server sends the same.
pub const CHUNK: usize = 8192;

/// The sender's CREATE `addtl`: `u32 0, str filename, str message,
/// u32 size, u32 0, u16 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The file's name as the sender gives it (free text: a path, any
    /// characters; whoever keeps it cleans it).
    pub filename: String,
    /// A message that comes with the file (Pidgin sends none).
    pub message: String,
    /// The file's size in bytes.
    pub size: u32,
}

impl Block for Offer {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("ft reserved")?;
        let filename = r.text("ft filename")?;
        let message = r.text("ft message")?;
        let size = r.u32("ft size")?;
        // libmeanwhile reads one more u32 and leaves the u16 after it.
        r.u32("ft reserved")?;
        Ok(Self { filename, message, size })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(0)
            .str("ft filename", &self.filename)
            .str("ft message", &self.message)
            .u32(self.size)
            .u32(0)
            .u16(0);
    }
}

/// A message on a file transfer channel, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FtMessage {
    /// A chunk of the file (the whole payload).
    Transfer(Vec<u8>),
    /// The acknowledgement of a chunk.
    Received,
}

impl FtMessage {
    /// Reads a file transfer payload. RECEIVED carries nothing; data after
    /// it is ignored, as libmeanwhile ignores it.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        match send_type {
            send_type::TRANSFER => Ok(Self::Transfer(data.to_vec())),
            send_type::RECEIVED if data.is_empty() => Ok(Self::Received),
            send_type::RECEIVED => Err(DecodeError::BadValue {
                field: "ft received length",
                value: u32::try_from(data.len()).unwrap_or(u32::MAX),
            }),
            other => Err(unknown_send_type(other)),
        }
    }

    /// The send type and payload.
    pub fn encode(&self) -> (u16, Vec<u8>) {
        match self {
            Self::Transfer(chunk) => (send_type::TRANSFER, chunk.clone()),
            Self::Received => (send_type::RECEIVED, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn offer_layout_is_libmeanwhiles() {
        let offer = Offer { filename: "a.txt".into(), message: String::new(), size: 300 };
        let bytes = offer.to_bytes().unwrap();
        assert_eq!(bytes, hex("00000000 0005 612e747874 0000 0000012c 00000000 0000"));
        assert_eq!(Offer::from_bytes(&bytes).unwrap(), offer);
        // Without the final u16 (libmeanwhile skips it) it still reads.
        assert_eq!(Offer::from_bytes(&bytes[..bytes.len() - 2]).unwrap(), offer);
    }

    #[test]
    fn malformed_offers_are_refused() {
        let good = Offer { filename: "a".into(), message: "m".into(), size: 1 }.to_bytes().unwrap();
        for cut in 0..good.len() - 2 {
            assert!(Offer::from_bytes(&good[..cut]).is_err(), "cut at {cut}");
        }
        // A name longer than the bytes left.
        assert!(Offer::from_bytes(&hex("00000000 ffff 61")).is_err());
        // Invalid UTF-8 in a name is repaired, not refused (free text).
        let odd = hex("00000000 0002 ff61 0000 00000001 00000000 0000");
        assert_eq!(Offer::from_bytes(&odd).unwrap().filename, "\u{fffd}a");
    }

    #[test]
    fn chunks_and_acknowledgements() {
        let chunk = FtMessage::Transfer(vec![1, 2, 3]);
        assert_eq!(chunk.encode(), (send_type::TRANSFER, vec![1, 2, 3]));
        assert_eq!(FtMessage::decode(send_type::TRANSFER, &[1, 2, 3]).unwrap(), chunk);
        assert_eq!(FtMessage::decode(send_type::RECEIVED, &[]).unwrap(), FtMessage::Received);
        assert!(FtMessage::decode(send_type::RECEIVED, &[0]).is_err());
        assert!(FtMessage::decode(0x0003, &[]).is_err());
        assert_eq!(FtMessage::Received.encode(), (send_type::RECEIVED, Vec::new()));
    }
}
