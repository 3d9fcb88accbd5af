//! One module per resource, each with its own `router()`.

pub mod agent;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod docs;
pub mod escrows;
pub mod health;
pub mod oauth;
pub mod scope;
pub mod tee;
pub mod users;
pub mod vault;
