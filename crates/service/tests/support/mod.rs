//! What the service tests share: a service over a real store in a
//! temporary directory.

use std::sync::Arc;

use simul_directory::EmbeddedRealm;
use simul_service::Service;
use simul_store::{NewUser, Store};

/// A service whose store, in `dir`, holds alice, bob and carol.
pub async fn service(dir: &tempfile::TempDir) -> Service {
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    for id in ["alice", "bob", "carol"] {
        let user = NewUser {
            id: id.into(),
            display_name: id.into(),
            mail: String::new(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            scram: String::new(),
        };
        store.create_user(&user).await.unwrap();
    }
    let realm = Arc::new(EmbeddedRealm::new(store.clone()));
    Service::new(store, realm, ltpa::LtpaKeys::generate(), "test".into()).await.unwrap()
}
