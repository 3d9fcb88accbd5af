//! One module per resource, each with its own `router()`.

pub mod auth;
pub mod docs;
pub mod health;
pub mod oauth;
pub mod tee;
pub mod users;
