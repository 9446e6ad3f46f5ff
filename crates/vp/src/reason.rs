//! Error and reason codes (spec §8, `mw_error.h`, houri draft §8.3.1).
//!
//! Codes travel as u32 in `CHANNEL_DESTROY` reasons and in storage and
//! resolve results; codes with the high bit set are errors. Messages keep
//! the raw u32 (a peer may send any value); [`ErrorCode`] names the known
//! ones. Which code to send in which situation, and what Pidgin makes of
//! it, is spec §4.12.

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $value:literal, $name:literal; )*) => {
        /// A known error or reason code. `code as u32` (or [`ErrorCode::code`])
        /// is its wire value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant = $value, )*
        }

        impl ErrorCode {
            /// Every known code, in the order of spec §8.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code for a wire value, if it is a known one.
            pub fn from_code(code: u32) -> Option<Self> {
                match code {
                    $( $value => Some(Self::$variant), )*
                    _ => None,
                }
            }

            /// Its name in spec §8 (`mw_error.h`'s, where it has one).
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }
        }
    };
}

error_codes! {
    /// Success; also a normal channel close.
    Success = 0x0000_0000, "ERR_SUCCESS";
    /// Generic failure (e.g. a storage save failed).
    Failure = 0x8000_0000, "ERR_FAILURE";
    /// Request delayed.
    RequestDelay = 0x0000_0001, "ERR_REQUEST_DELAY";
    /// Protocol violation: bad channel ids, unexpected ACCEPTs.
    RequestInvalid = 0x8000_0001, "ERR_REQUEST_INVALID";
    /// Not logged in.
    NotLoggedIn = 0x8000_0002, "ERR_NOT_LOGGED_IN";
    /// Not authorized: policy refusals.
    NotAuthorized = 0x8000_0003, "ERR_NOT_AUTHORIZED";
    /// Aborted.
    Abort = 0x8000_0004, "ERR_ABORT";
    /// No such element: a missing storage key, a resolve miss.
    NoElement = 0x8000_0005, "ERR_NO_ELEMENT";
    /// No such user.
    NoUser = 0x8000_0006, "ERR_NO_USER";
    /// Bad data.
    BadData = 0x8000_0007, "ERR_BAD_DATA";
    /// Not implemented.
    NotImplemented = 0x8000_0008, "ERR_NOT_IMPLEMENTED";
    /// Unknown error.
    UnknownError = 0x8000_0009, "ERR_UNKNOWN_ERROR";
    /// Starving.
    Starving = 0x8000_000a, "ERR_STARVING";
    /// Channel not supported.
    ChannelNoSupport = 0x8000_000b, "ERR_CHANNEL_NO_SUPPORT";
    /// Channel exists.
    ChannelExists = 0x8000_000c, "ERR_CHANNEL_EXISTS";
    /// Service not supported: the answer to a CREATE for an unsupported service.
    ServiceNoSupport = 0x8000_000d, "ERR_SERVICE_NO_SUPPORT";
    /// Protocol not supported.
    ProtocolNoSupport = 0x8000_000e, "ERR_PROTOCOL_NO_SUPPORT";
    /// Protocol not supported (second code).
    ProtocolNoSupport2 = 0x8000_000f, "ERR_PROTOCOL_NO_SUPPORT2";
    /// Version not supported.
    VersionNoSupport = 0x8000_0010, "ERR_VERSION_NO_SUPPORT";
    /// User sketchy.
    UserSketchy = 0x8000_0011, "ERR_USER_SKETCHY";
    /// Already initialized.
    AlreadyInitialized = 0x8000_0013, "ERR_ALREADY_INITIALIZED";
    /// Not the owner.
    NotOwner = 0x8000_0014, "ERR_NOT_OWNER";
    /// Token invalid; never send for a login (Pidgin retries forever, §4.6).
    TokenInvalid = 0x8000_0015, "ERR_TOKEN_INVALID";
    /// Token expired; never send for a login (§4.6).
    TokenExpired = 0x8000_0016, "ERR_TOKEN_EXPIRED";
    /// Token IP mismatch; never send for a login (§4.6).
    TokenIpMismatch = 0x8000_0017, "ERR_TOKEN_IP_MISMATCH";
    /// Port in use.
    PortInUse = 0x8000_0018, "ERR_PORT_IN_USE";
    /// Network dead.
    NetworkDead = 0x8000_0019, "ERR_NETWORK_DEAD";
    /// No master channel.
    NoMasterChannel = 0x8000_001a, "ERR_NO_MASTER_CHANNEL";
    /// Already subscribed.
    AlreadySubscribed = 0x8000_001b, "ERR_ALREADY_SUBSCRIBED";
    /// Not subscribed.
    NotSubscribed = 0x8000_001c, "ERR_NOT_SUBSCRIBED";
    /// Encryption not supported.
    EncryptNoSupport = 0x8000_001d, "ERR_ENCRYPT_NO_SUPPORT";
    /// Encryption not initialized.
    EncryptUninitialized = 0x8000_001e, "ERR_ENCRYPT_UNINITIALIZED";
    /// Encryption unacceptable.
    EncryptUnacceptable = 0x8000_001f, "ERR_ENCRYPT_UNACCEPTABLE";
    /// Encryption invalid.
    EncryptInvalid = 0x8000_0020, "ERR_ENCRYPT_INVALID";
    /// No common encryption.
    NoCommonEncrypt = 0x8000_0021, "ERR_NO_COMMON_ENCRYPT";
    /// Channel destroyed.
    ChannelDestroyed = 0x8000_0022, "ERR_CHANNEL_DESTROYED";
    /// Channel redirected.
    ChannelRedirected = 0x8000_0023, "ERR_CHANNEL_REDIRECTED";

    /// Version mismatch.
    VersionMismatch = 0x8000_0200, "VERSION_MISMATCH";
    /// Insufficient buffer.
    InsufBuffer = 0x8000_0201, "INSUF_BUFFER";
    /// Not in use.
    NotInUse = 0x8000_0202, "NOT_IN_USE";
    /// Insufficient sockets.
    InsufSocket = 0x8000_0203, "INSUF_SOCKET";
    /// Hardware error.
    HardwareError = 0x8000_0204, "HARDWARE_ERROR";
    /// Network down.
    NetworkDown = 0x8000_0205, "NETWORK_DOWN";
    /// Host down.
    HostDown = 0x8000_0206, "HOST_DOWN";
    /// Host unreachable.
    HostUnreachable = 0x8000_0207, "HOST_UNREACHABLE";
    /// TCP/IP error.
    TcpipError = 0x8000_0208, "TCPIP_ERROR";
    /// Message too large: a frame over the size limit (§1.4).
    FatMessage = 0x8000_0209, "FAT_MESSAGE";
    /// Proxy error.
    ProxyError = 0x8000_020a, "PROXY_ERROR";
    /// Server full.
    ServerFull = 0x8000_020b, "SERVER_FULL";
    /// Server not responding.
    ServerNorespond = 0x8000_020c, "SERVER_NORESPOND";
    /// Cannot connect.
    CantConnect = 0x8000_020d, "CANT_CONNECT";
    /// User removed.
    UserRemoved = 0x8000_020e, "USER_REMOVED";
    /// Protocol error.
    ProtocolError = 0x8000_020f, "PROTOCOL_ERROR";
    /// User restricted: a disabled account.
    UserRestricted = 0x8000_0210, "USER_RESTRICTED";
    /// Incorrect login: every failed login, whatever the cause (§4.8).
    IncorrectLogin = 0x8000_0211, "INCORRECT_LOGIN";
    /// Encryption mismatch.
    EncryptMismatch = 0x8000_0212, "ENCRYPT_MISMATCH";
    /// User unregistered.
    UserUnregistered = 0x8000_0213, "USER_UNREGISTERED";
    /// Login verification down: directory or LTPA back end unavailable.
    VerificationDown = 0x8000_0214, "VERIFICATION_DOWN";
    /// User too idle.
    UserTooIdle = 0x8000_0216, "USER_TOO_IDLE";
    /// Guest name in use.
    GuestInUse = 0x8000_0217, "GUEST_IN_USE";
    /// User exists.
    UserExists = 0x8000_0218, "USER_EXISTS";
    /// User re-login.
    UserReLogin = 0x8000_0219, "USER_RE_LOGIN";
    /// Bad name.
    BadName = 0x8000_021a, "BAD_NAME";
    /// Registration mode not supported.
    RegModeNs = 0x8000_021b, "REG_MODE_NS";
    /// Wrong user privilege.
    WrongUserPriv = 0x8000_021c, "WRONG_USER_PRIV";
    /// E-mail address needed.
    NeedEmail = 0x8000_021d, "NEED_EMAIL";
    /// DNS error.
    DnsError = 0x8000_021e, "DNS_ERROR";
    /// Fatal DNS error.
    DnsFatalError = 0x8000_021f, "DNS_FATAL_ERROR";
    /// DNS name not found.
    DnsNotFound = 0x8000_0220, "DNS_NOT_FOUND";
    /// Connection broken.
    ConnectionBroken = 0x8000_0221, "CONNECTION_BROKEN";
    /// Connection aborted.
    ConnectionAborted = 0x8000_0222, "CONNECTION_ABORTED";
    /// Connection refused.
    ConnectionRefused = 0x8000_0223, "CONNECTION_REFUSED";
    /// Connection reset.
    ConnectionReset = 0x8000_0224, "CONNECTION_RESET";
    /// Connection timed out.
    ConnectionTimed = 0x8000_0225, "CONNECTION_TIMED";
    /// Connection closed: the server shuts down (Pidgin reconnects).
    ConnectionClosed = 0x8000_0226, "CONNECTION_CLOSED";
    /// Logged in elsewhere: a displaced login (Pidgin shows "name in use").
    MultiServerLogin = 0x8000_0227, "MULTI_SERVER_LOGIN";
    /// Logged in elsewhere (second code).
    MultiServerLogin2 = 0x8000_0228, "MULTI_SERVER_LOGIN2";
    /// Multiple logins (compatibility).
    MultiLoginComp = 0x8000_0229, "MULTI_LOGIN_COMP";
    /// Already logged in.
    MultiLoginAlready = 0x8000_022a, "MULTI_LOGIN_ALREADY";
    /// Server broken.
    ServerBroken = 0x8000_022b, "SERVER_BROKEN";
    /// Server path old.
    ServerPathOld = 0x8000_022c, "SERVER_PATH_OLD";
    /// Applet logout.
    AppletLogout = 0x8000_022d, "APPLET_LOGOUT";

    /// The user is not here: IM to an offline user, a vanished peer.
    ClientUserGone = 0x8000_2000, "ERR_CLIENT_USER_GONE";
    /// The user does not want to be disturbed.
    ClientUserDnd = 0x8000_2001, "ERR_CLIENT_USER_DND";
    /// The user is elsewhere; never for a displaced login (§4.12).
    ClientUserElsewhere = 0x8000_2002, "ERR_CLIENT_USER_ELSEWHERE";

    /// IM could not register.
    ImCouldntRegister = 0x8000_2003, "ERR_IM_COULDNT_REGISTER";
    /// IM already registered.
    ImAlreadyRegistered = 0x8000_2004, "ERR_IM_ALREADY_REGISTERED";
    /// The receiver does not support the requested IM client type.
    ImNotRegistered = 0x8000_2005, "ERR_IM_NOT_REGISTERED";

    /// The receiver declined a file (file-transfer channels only; no high bit).
    FileTransferRejected = 0x0800_0606, "REJECTED";

    /// Resolve: some queries matched.
    ResolvePartial = 0x0001_0000, "PARTIAL";
    /// Resolve: several matches where one was asked for.
    ResolveMultiple = 0x8002_0000, "MULTIPLE";
    /// Resolve: a badly formed query.
    ResolveBadFormat = 0x8003_0000, "BAD_FORMAT";
}

impl ErrorCode {
    /// The wire value.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// Whether the code is an error (high bit set).
    pub fn is_error(self) -> bool {
        is_error(self.code())
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> u32 {
        code.code()
    }
}

/// Whether a wire code is an error: Pidgin reports a channel-0 reason
/// only when its high bit is set (§4.12).
pub fn is_error(code: u32) -> bool {
    code & 0x8000_0000 != 0
}

/// Whether Pidgin treats a channel-0 reason as transient and reconnects
/// (`mw_session_stateChange` mapping to NETWORK_ERROR or
/// ENCRYPTION_ERROR, §4.12). Codes without the high bit report no error.
pub fn pidgin_reconnects(code: u32) -> bool {
    use ErrorCode::*;
    if !is_error(code) {
        return false;
    }
    !matches!(
        ErrorCode::from_code(code),
        Some(
            VersionMismatch
                | UserRestricted
                | IncorrectLogin
                | UserUnregistered
                | GuestInUse
                | VerificationDown
                | MultiServerLogin
                | MultiServerLogin2
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_spec_numbers() {
        assert_eq!(ErrorCode::IncorrectLogin.code(), 0x8000_0211);
        assert_eq!(ErrorCode::ServiceNoSupport as u32, 0x8000_000d);
        assert_eq!(ErrorCode::ClientUserGone.code(), 0x8000_2000);
        assert_eq!(ErrorCode::from_code(0x8000_0227), Some(ErrorCode::MultiServerLogin));
        assert_eq!(ErrorCode::from_code(0x8000_0215), None, "0x215 is not defined");
        assert!(!ErrorCode::FileTransferRejected.is_error());
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Some(code), "{}", code.name());
        }
        let mut values: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn pidgin_reconnect_table() {
        assert!(!pidgin_reconnects(ErrorCode::IncorrectLogin.code()));
        assert!(!pidgin_reconnects(ErrorCode::MultiServerLogin.code()));
        assert!(pidgin_reconnects(ErrorCode::ConnectionClosed.code()));
        assert!(pidgin_reconnects(ErrorCode::TokenExpired.code()), "why §4.6 avoids it");
        assert!(pidgin_reconnects(ErrorCode::EncryptMismatch.code()));
        assert!(!pidgin_reconnects(0));
    }
}
