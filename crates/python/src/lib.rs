//! `cruxlab._cruxlab`: the Python bindings, a thin layer over the library crates.
//!
//! The Python package (`python/cruxlab/`) builds its Gymnasium, PettingZoo and DataFrame
//! interfaces on these classes and functions. Nothing here decides anything scientific: the
//! step rule, the level generators, the games and the experiments all live in their crates.
//!
//! Errors: bad input raises `cruxlab.UserError` (a `ValueError`) with the message the CLI prints
//! after `error: `; anything else raises `cruxlab.InternalError` (a `RuntimeError`). A Rust panic
//! is caught at the boundary and raised as `InternalError`, so it never takes the interpreter down.

mod experiments;
mod games;
mod grid;
mod policy;
mod safety;

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::prelude::*;

/// Which of the package's exception classes an error becomes.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Bad input: a `ValueError`.
    User,
    /// A failure that is not the caller's doing: a `RuntimeError`.
    Internal,
}

/// An error on its way to Python: the class and the CLI's message.
pub(crate) struct Failure {
    kind: Kind,
    message: String,
}

impl Failure {
    pub(crate) fn user(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::User,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::Internal,
            message: message.into(),
        }
    }

    /// An error from the framework, classified and worded as the CLI does (`{err:#}`).
    pub(crate) fn from_anyhow(err: anyhow::Error) -> Failure {
        let kind = if cruxlab_core::is_user_error(&err) {
            Kind::User
        } else {
            Kind::Internal
        };
        Failure {
            kind,
            message: format!("{err:#}"),
        }
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        Python::attach(|py| {
            let name = match f.kind {
                Kind::User => "UserError",
                Kind::Internal => "InternalError",
            };
            match py
                .import("cruxlab.errors")
                .and_then(|m| m.getattr(name))
                .and_then(|class| class.call1((f.message.clone(),)))
            {
                Ok(instance) => PyErr::from_value(instance),
                // The pure-Python half is missing (the extension imported on its own).
                Err(_) => match f.kind {
                    Kind::User => pyo3::exceptions::PyValueError::new_err(f.message),
                    Kind::Internal => pyo3::exceptions::PyRuntimeError::new_err(f.message),
                },
            }
        })
    }
}

/// Run `body`, turning a panic into an `InternalError` carrying the panic's message.
pub(crate) fn guard<T>(body: impl FnOnce() -> Result<T, Failure>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result.map_err(PyErr::from),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Failure::internal(format!("internal error (a bug in cruxlab): {message}")).into())
        }
    }
}

/// Panic inside the boundary's guard, so the tests can check a panic becomes an exception.
#[pyfunction]
fn _panic(message: &str) -> PyResult<()> {
    guard(|| -> Result<(), Failure> { panic!("{message}") })
}

#[pymodule]
fn _cruxlab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    grid::register(m)?;
    games::register(m)?;
    safety::register(m)?;
    policy::register(m)?;
    experiments::register(m)?;
    Ok(())
}
