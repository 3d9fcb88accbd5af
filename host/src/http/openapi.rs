//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::routes::{auth, health, oauth, tee, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Aileron API",
        description = "Enclave-first credential escrow: host server."
    ),
    paths(
        health::health,
        auth::signup,
        auth::verify_email,
        auth::resend_verification,
        auth::login,
        auth::refresh,
        auth::logout,
        oauth::login,
        oauth::callback,
        users::get_me,
        tee::status,
        users::patch_me,
        users::get_enterprise,
        users::patch_enterprise,
        users::delete_provider,
    ),
    components(schemas(ErrorBody, ErrorDetail, health::Health))
)]
pub struct ApiDoc;
