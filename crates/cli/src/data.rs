//! The data directory, opened through the one way the CLI and the server share
//! ([`anxin_service::deployment`]).

pub use anxin_service::deployment::{Deployment as DataDir, init};
