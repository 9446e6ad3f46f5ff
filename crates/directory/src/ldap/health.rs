//! Whether the directory answers, for `/metrics`, the logs and
//! `simul directory test`. Only changes are logged, so an outage gives
//! one warning and one recovery line, not one per request.

use std::sync::Mutex;

use crate::DirectoryError;

/// The repository's state as last seen.
#[derive(Debug)]
pub struct Health {
    repository: String,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Default)]
struct State {
    up: Option<bool>,
    server: Option<String>,
    problem: Option<String>,
}

impl Health {
    /// Not yet known.
    pub(crate) fn new(repository: &str) -> Self {
        Self { repository: repository.to_owned(), state: Mutex::default() }
    }

    /// Notes an operation's outcome and passes it on. Errors about the
    /// request (a name matching several people) say nothing of the
    /// directory's health.
    pub(crate) fn track<T>(&self, result: Result<T, DirectoryError>) -> Result<T, DirectoryError> {
        match &result {
            Ok(_) => self.set(true, None),
            Err(error) if error.is_outage() => self.set(false, Some(error.to_string())),
            Err(_) => {}
        }
        result
    }

    /// Notes which server answered.
    pub(crate) fn reached(&self, server: &str) {
        self.lock().server = Some(server.to_owned());
    }

    /// `Some(true)` if the last operation worked, `Some(false)` if the
    /// directory could not be used, `None` before the first.
    pub fn up(&self) -> Option<bool> {
        self.lock().up
    }

    /// The server of the current connection.
    pub fn server(&self) -> Option<String> {
        self.lock().server.clone()
    }

    /// Why the directory is down, while it is.
    pub fn problem(&self) -> Option<String> {
        self.lock().problem.clone()
    }

    fn set(&self, up: bool, problem: Option<String>) {
        let mut state = self.lock();
        let was = state.up.replace(up);
        metrics::gauge!("simul_directory_up", "repository" => self.repository.clone()).set(if up {
            1.0
        } else {
            0.0
        });
        match (was, up) {
            (Some(true) | None, false) => {
                tracing::warn!(repository = %self.repository, "LDAP directory unavailable: {}", problem.as_deref().unwrap_or_default());
            }
            (Some(false), true) => {
                tracing::info!(repository = %self.repository, "LDAP directory available again");
            }
            _ => {}
        }
        if !up {
            metrics::counter!("simul_directory_errors_total", "repository" => self.repository.clone())
                .increment(1);
        }
        state.problem = problem;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
