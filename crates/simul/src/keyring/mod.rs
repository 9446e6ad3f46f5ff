//! The deployment's LTPA key sets, kept by [`simul_service::key_files`]
//! (which `simul ltpa` and the console share), and the running server's
//! following of them.

mod follow;

pub use follow::follow;
