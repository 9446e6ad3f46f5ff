//! The administrators' acts on the deployment's LTPA keys, for the
//! console: rotate, import, export. Each works on the key files the way
//! `simul ltpa rotate|import|export` does (through [`KeyDir`]), writes
//! the audit log, and puts the new keys to use at once (the server's
//! watch of the files would within seconds).

use chrono::Utc;
use ltpa::{KeyFile, Password};
use zeroize::Zeroizing;

use crate::key_files::{KeyDir, Replaced, Replacement};
use crate::{Actor, Service, ServiceError};

/// What the console names an uploaded key file in its sentences.
const UPLOADED: &str = "the uploaded file";

/// What every property of an `ltpa.keys` starts with.
const KEY_PROPERTY_PREFIX: &[u8] = b"com.ibm.websphere.ltpa.";

impl Service {
    /// A new key set for the deployment, as `simul ltpa rotate`.
    pub async fn rotate_keys(
        &self,
        actor: &Actor,
        old: Replaced,
    ) -> Result<(KeyFile, Replacement), ServiceError> {
        let files = self.required_key_files()?;
        let (file, replacement) = files.rotate(self.realm_name(), old).map_err(keys_error)?;
        self.apply_key_files(files)?;
        let target = file.keys.shared_key_fingerprint();
        self.administration().record(actor, "rotate-ltpa-keys", &target).await?;
        Ok((file, replacement))
    }

    /// Makes an exported `ltpa.keys` (WebSphere, Liberty, Domino, another
    /// Simul), protected by `password`, the deployment's keys, as `simul
    /// ltpa import`. A file that is damaged, of another kind or protected
    /// by another password is refused with a sentence naming the problem,
    /// and nothing changes.
    pub async fn import_keys(
        &self,
        actor: &Actor,
        bytes: &[u8],
        password: &Password,
        old: Replaced,
    ) -> Result<(KeyFile, Replacement), ServiceError> {
        let files = self.required_key_files()?;
        // A certificate, a PKCS#12 store or a Liberty server.xml would fail
        // on a missing property; say what it is not instead.
        if !bytes.windows(KEY_PROPERTY_PREFIX.len()).any(|window| window == KEY_PROPERTY_PREFIX) {
            return Err(ServiceError::Invalid(format!(
                "{UPLOADED} is not an LTPA key file (it has none of the com.ibm.websphere.ltpa \
                 properties): choose the ltpa.keys that WebSphere (Global security ▸ LTPA ▸ \
                 Export keys), Liberty or simul ltpa export wrote"
            )));
        }
        let file = KeyFile::parse(bytes, password, std::path::Path::new(UPLOADED))
            .map_err(|error| ServiceError::Invalid(error.to_string()))?;
        let replacement = files.replace(&file, old).map_err(keys_error)?;
        self.apply_key_files(files)?;
        let target = file.keys.shared_key_fingerprint();
        self.administration().record(actor, "import-ltpa-keys", &target).await?;
        Ok((file, replacement))
    }

    /// The deployment's current keys, naming the realm its tokens carry,
    /// protected by `password`: the file the other servers import, as
    /// `simul ltpa export --data DIR`.
    pub async fn export_keys(
        &self,
        actor: &Actor,
        password: &Password,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let files = self.required_key_files()?;
        let file = files.for_export(Some(self.realm_name().to_owned())).map_err(keys_error)?;
        let target = file.keys.shared_key_fingerprint();
        self.administration().record(actor, "export-ltpa-keys", &target).await?;
        Ok(file.to_bytes(password))
    }

    fn required_key_files(&self) -> Result<&KeyDir, ServiceError> {
        self.key_files().ok_or_else(|| {
            ServiceError::Keys("this server keeps no LTPA key files to change".into())
        })
    }

    /// Signs with the files' current keys and verifies with the previous
    /// ones too, from now on.
    fn apply_key_files(&self, files: &KeyDir) -> Result<(), ServiceError> {
        let ring = files.read(Utc::now()).map_err(keys_error)?;
        self.replace_keys(ring.current.keys.clone(), ring.previous_keys());
        Ok(())
    }
}

fn keys_error(error: anyhow::Error) -> ServiceError {
    ServiceError::Keys(format!("{error:#}"))
}
