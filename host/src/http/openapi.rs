//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::routes::{agent, agents, audit, auth, escrows, health, oauth, scope, tee, users, vault};

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
        auth::methods,
        oauth::login,
        oauth::callback,
        users::get_me,
        tee::status,
        users::patch_me,
        users::get_enterprise,
        users::patch_enterprise,
        users::delete_provider,
        vault::vault,
        vault::create_vault,
        vault::change_passphrase,
        vault::delete_vault,
        vault::open_session,
        vault::lock,
        vault::create_credential,
        vault::list_credentials,
        vault::get_credential,
        vault::update_credential,
        vault::delete_credential,
        vault::escrow_credential,
        vault::credential_request,
        agents::create,
        agents::list,
        agents::revoke,
        agent::usable,
        escrows::attestation,
        escrows::register,
        escrows::admission,
        escrows::list,
        escrows::status,
        escrows::remove,
        escrows::request,
        audit::list,
        scope::check,
    ),
    components(schemas(ErrorBody, ErrorDetail, health::Health))
)]
pub struct ApiDoc;

/// The document as pretty JSON, exactly what `/openapi.json` serves.
pub fn document() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&ApiDoc::openapi())
}
