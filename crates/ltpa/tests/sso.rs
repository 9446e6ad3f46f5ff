//! SSO settings and the Domino Web SSO document, end to end: the cookies a
//! login sets come back in a request and verify to the same user.

use std::path::Path;

use ltpa::sso::{Request, SameSite};
use ltpa::websso::WebSphereTokenFormat;
use ltpa::{
    AccessId, KeyFile, Password, SsoSettings, TokenFormat, Verifier, VerifyOptions, WebSsoDocument,
    domino,
};

const NOW: i64 = 1_800_000_000_000;

fn websphere_keys() -> KeyFile {
    KeyFile::parse(
        include_bytes!("vectors/websphere-2013.keys"),
        &Password::new("password"),
        Path::new("websphere-2013.keys"),
    )
    .unwrap()
}

#[test]
fn login_cookies_come_back_and_verify() {
    let file = websphere_keys();
    let settings = SsoSettings {
        domains: SsoSettings::parse_domains(".cn.renovations.com"),
        interoperability_mode: true,
        requires_ssl: true,
        ..SsoSettings::default()
    };
    settings.validate().unwrap();
    let request = Request { host: "sametime.cn.renovations.com", https: true };
    let user = AccessId::user(&file.realm, "uid=jdoe,o=renovations");
    let cookies = settings.login_cookies(&file.keys, &user, NOW, request);
    let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["LtpaToken2", "LtpaToken"]);
    for cookie in &cookies {
        let text = cookie.to_string();
        assert!(
            text.contains("; Path=/; Domain=.cn.renovations.com; Secure; HttpOnly; SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Max-Age"), "session cookie, as WebSphere sends: {text}");
    }

    let header: String = cookies.iter().map(|c| format!("{}={}; ", c.name, c.value)).collect();
    let presented = settings.presented_tokens(&header, request);
    assert_eq!(presented[0].formats, [TokenFormat::Ltpa2]);
    assert_eq!(presented[1].formats, [TokenFormat::Ltpa1]);
    let verifier = Verifier::new().with_keys(file.keys.clone());
    let options = VerifyOptions::at(NOW + 60_000).trusting([file.realm.as_str()]);
    for token in presented {
        let identity = verifier.verify(&token.value, Some(token.formats[0]), &options).unwrap();
        assert_eq!(identity.user, "uid=jdoe,o=renovations");
        assert_eq!(identity.expires_ms, NOW + 120 * 60_000);
    }

    let plain_http = Request { host: "sametime.cn.renovations.com", https: false };
    assert!(settings.login_cookies(&file.keys, &user, NOW, plain_http).is_empty());
}

#[test]
fn persistent_cookies_carry_max_age_and_logout_clears() {
    let file = websphere_keys();
    let settings = SsoSettings {
        persistent_cookies: true,
        same_site: SameSite::Strict,
        http_only: false,
        ..SsoSettings::default()
    };
    let request = Request { host: "localhost", https: false };
    let cookies = settings.login_cookies(&file.keys, &AccessId::user("r", "u"), NOW, request);
    assert_eq!(cookies.len(), 1, "no interoperability mode: LtpaToken2 only");
    assert!(
        cookies[0].to_string().ends_with("; Path=/; Max-Age=7200; SameSite=Strict"),
        "{}",
        cookies[0]
    );
    let logout = settings.logout_cookies(request);
    assert!(logout.iter().all(|c| c.value.is_empty() && c.max_age == Some(0)));
}

#[test]
fn web_sso_document_with_domino_secret_only_issues_domino_tokens() {
    let mut document = WebSsoDocument {
        dns_domains: vec![".edcom.local".into(), ".timetoact.de".into()],
        expiration_minutes: 720,
        ..WebSsoDocument::default()
    };
    assert!(document.import_domino_secret("not base64").is_err());
    document.import_domino_secret("AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap();
    assert_eq!(document.issued_formats(), [TokenFormat::Domino]);
    let settings = document.sso_settings();
    assert_eq!(settings.expiration_minutes, 720);
    assert!(settings.accept_domino_tokens);
    assert_eq!(settings.ltpa1_cookie_name, "LtpaToken");
    let token = "AAECAzQ5OTYwMmQyNDk5NjE3ZWFNeSBUZXN0IFVzZXJ1HUi4fVHSeb8JgA2xsVK0kjromg==";
    let identity =
        document.verifier().verify(token, None, &VerifyOptions::at(1_234_567_890_000)).unwrap();
    assert_eq!((identity.format, identity.user.as_str()), (TokenFormat::Domino, "My Test User"));
}

#[test]
fn importing_websphere_keys_takes_realm_and_version() {
    let file = websphere_keys();
    let mut document = WebSsoDocument::default();
    document.import_domino_secret("AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap();
    document.import_websphere_keys(&file);
    document.token_format = WebSphereTokenFormat::Both;
    assert_eq!(document.ldap_realm.as_deref(), Some("9.3.179.80:5389"));
    assert_eq!(document.ltpa_version.as_deref(), Some("1.0"));
    assert_eq!(document.issued_formats(), [TokenFormat::Ltpa2, TokenFormat::Ltpa1]);
    assert!(document.sso_settings().interoperability_mode);

    // Tokens of both kinds verify: WebSphere's from the imported keys,
    // Domino's from the secret.
    let verifier = document.verifier();
    let at_websphere = VerifyOptions::at(1_696_698_000_000);
    let v2 = include_str!("vectors/websphere-2013.ltpatoken2").trim();
    assert_eq!(verifier.verify(v2, None, &at_websphere).unwrap().format, TokenFormat::Ltpa2);
    let secret = ltpa::DominoSecret::from_base64("AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap();
    let domino_token = domino::create(&secret, "CN=Jane Doe/O=Acme", 1_700_000_000, 1_700_003_600);
    let identity =
        verifier.verify(&domino_token, None, &VerifyOptions::at(1_700_000_000_000)).unwrap();
    assert_eq!(identity.format, TokenFormat::Domino);
}
